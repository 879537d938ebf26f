// The node API over gRPC with TLS from the controller's own CA. Every call but Join is
// authenticated with the calling node's own credential and acts on that node alone.
import * as grpc from '@grpc/grpc-js';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { MeshError } from '../../core/errors.ts';
import { splitDelta, type WatchEvent } from '../../core/change.ts';
import { nodeService } from '../../rpc/proto.ts';
import { toGrpcError } from '../../rpc/errors.ts';
import type { TlsMaterial } from '../tls.ts';
import type { NodeApi, JoinInput, CheckInInput } from './service.ts';
import type { WatchHub } from './watch-hub.ts';
import type { NodeRow, Store } from '../store/store.ts';
import { shareAlpnLists } from '../tls-alpn.ts';

type Unary<Req, Res> = grpc.handleUnaryCall<Req, Res>;

/** Connections the kernel may hold for the node API before it accepts them (capped by
 * net.core.somaxconn). Node's default, 511, is what a restart herd of thousands of agents
 * overflowed: the kernel dropped their handshakes, and they came back only on TCP's SYN
 * retransmissions, 1, 3, 7, 15, 31 s later. */
export const LISTEN_BACKLOG = 4096;

/** How long a Watch stream may leave its updates unread before it is closed. */
const WATCH_DRAIN_MS = 30_000;

const credentialOf = (call: grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>) =>
  call.metadata.get('authorization')[0]?.toString();

/** Adapts an async handler to grpc-js, mapping every error through one function. */
function unary<Req, Res>(log: Logger, fn: (call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res>): Unary<Req, Res> {
  return (call, callback) => {
    fn(call).then(
      (res) => callback(null, res),
      (err: unknown) => {
        if (!(err instanceof MeshError)) log.error({ err }, 'node API call failed');
        callback(toGrpcError(err) as grpc.ServiceError);
      },
    );
  };
}

export interface NodeGrpcServer {
  port: number;
  /** Stops accepting, ends Watch streams, and after `graceMs` closes every session hard. */
  close(graceMs?: number): Promise<void>;
}

/** `b` in memory of its own when it is a small slice of a larger block. A small Buffer is a slice
 * of Node's shared pool (64 KB chunks on Node 26), and a live slice keeps its whole chunk: the
 * encoded events kept with the events the change history holds (1,024 per network) kept a chunk
 * each, 30 MB at 1,000 agents in a heap snapshot. One copy per event, not per stream. */
export function unpooled(b: Buffer): Buffer {
  if (b.byteLength >= 4096 || b.buffer.byteLength <= b.byteLength * 2) return b;
  const own = Buffer.allocUnsafeSlow(b.byteLength);
  b.copy(own);
  return own;
}

/** The most bytes one Watch event may take on the wire; a delta that encodes to more is sent in
 * pieces (splitDelta). Node's TLS layer keeps, for as long as a connection lives, a buffer of
 * the size of the largest single write it encrypted once that write was 16 KB or more (the
 * ring of its encrypted output grows to fit a write and never shrinks): a merged delta or a
 * catch-up of 40 KB, written once, kept 49 KB per connection. Each stream writes one event at a
 * time (the next after the last has gone to the socket), so that a write is one event, under
 * 16 KB with its framing. A whole view (snapshot) is not cut: the agent must apply it at once. */
export const MAX_EVENT_BYTES = 15 * 1024;

/** Watch events encoded once per event object: the hub hands every stream that gets the same
 * delta the same object, so a change in a network of N streams is serialized once, not N times
 * (events are never changed after they are sent). A delta larger than MAX_EVENT_BYTES is cut
 * into pieces once, shared the same way. */
export function eventEncoder(max = MAX_EVENT_BYTES): { encode(ev: object): Buffer; pieces(ev: WatchEvent): readonly WatchEvent[] } {
  const plain = nodeService().service.Watch!.responseSerialize;
  const encoded = new WeakMap<object, Buffer>();
  const cut = new WeakMap<object, readonly WatchEvent[]>();
  const encode = (ev: object): Buffer => {
    let b = encoded.get(ev);
    if (!b) encoded.set(ev, (b = unpooled(plain(ev))));
    return b;
  };
  return {
    encode,
    pieces: (ev) => {
      if (!('delta' in ev) || encode(ev).byteLength <= max) return [ev];
      let p = cut.get(ev);
      if (!p) cut.set(ev, (p = splitDelta(ev, (piece) => plain(piece).byteLength, max)));
      return p;
    },
  };
}

/** The node service for the server, its Watch events encoded by `encoder`. */
export function serverDefinition(encoder = eventEncoder()): grpc.ServiceDefinition {
  const def = nodeService().service;
  return { ...def, Watch: { ...def.Watch!, responseSerialize: encoder.encode } } as grpc.ServiceDefinition;
}

/** The `send` of a Watch stream: writes an event (in pieces when large) to `call`, one write at
 * a time, and resolves once the last has gone to the socket or the stream has ended. A client
 * that leaves a write unread for `drainMs` is cut off (it gets a snapshot when it returns). */
export function eventWriter(call: grpc.ServerWritableStream<unknown, WatchEvent>, encoder: ReturnType<typeof eventEncoder>, drainMs = WATCH_DRAIN_MS): (ev: WatchEvent) => Promise<void> {
  let pending: (() => void) | null = null;
  const ended = () => pending?.();
  call.once('close', ended);
  call.once('cancelled', ended);
  const writeOne = (piece: WatchEvent) =>
    new Promise<boolean>((resolve) => {
      const t = setTimeout(() => {
        pending = null;
        resolve(false);
      }, drainMs);
      pending = () => {
        pending = null;
        clearTimeout(t);
        resolve(true);
      };
      call.write(piece, () => pending?.());
    });
  return async (ev) => {
    for (const piece of encoder.pieces(ev)) {
      if (call.cancelled || call.destroyed) return;
      if (!(await writeOne(piece))) {
        call.emit('error', toGrpcError(new MeshError('UNREACHABLE', 'this Watch stream did not read its updates; closed')));
        return;
      }
    }
  };
}

export async function startNodeGrpc(opts: {
  host: string; port: number; tls: TlsMaterial; api: NodeApi; hub: WatchHub; store: Store; log: Logger; onWatch?: (node: NodeRow) => void;
  /** Called as each connection is accepted, before TLS and HTTP/2 allocate its buffers
   * (`meshctl server`: a trim of the C heap, controller/malloc-trim.ts). */
  beforeConnection?: () => void;
  /** More services on the same port and TLS (the relays' registration). */
  services?: { definition: grpc.ServiceDefinition; implementation: grpc.UntypedServiceImplementation }[];
}): Promise<NodeGrpcServer> {
  const { api, hub, store, log } = opts;
  // Each agent's connection would otherwise keep a 64 KB chunk of Node's Buffer pool (tls-alpn.ts).
  shareAlpnLists();
  const server = new grpc.Server({ 'grpc.keepalive_time_ms': 30_000, 'grpc.keepalive_timeout_ms': 10_000, 'grpc.keepalive_permit_without_calls': 1, 'grpc.max_receive_message_length': 1 << 20 });
  const encoder = eventEncoder();
  server.addService(serverDefinition(encoder), {
    Join: unary(log, async (call: grpc.ServerUnaryCall<JoinInput, unknown>) => api.join(call.request, call.getPeer())),
    CheckIn: unary(log, async (call: grpc.ServerUnaryCall<CheckInInput, unknown>) => {
      const node = await api.authenticate(credentialOf(call), call.getPeer());
      api.limitCall(node, 'check-in');
      return api.checkIn(node, call.request, call.getPeer());
    }),
    Leave: unary(log, async (call: grpc.ServerUnaryCall<unknown, unknown>) => {
      const node = await api.authenticate(credentialOf(call), call.getPeer());
      await api.leave(node);
      return { left: true };
    }),
    Watch: (call: grpc.ServerWritableStream<{ knownVersion: number; viewDigest?: string }, WatchEvent>) => {
      void (async () => {
        const node = await api.authenticate(credentialOf(call), call.getPeer());
        api.limitCall(node, 'watch');
        const net = await store.getNetwork(node.network);
        if (!net) throw new MeshError('NODE_REMOVED', `network "${node.network}" no longer exists`);
        // Cancelled while we were authenticating: registering now would leave a subscriber that
        // nothing ever removes ('cancelled' has already fired).
        if (call.cancelled || call.destroyed) return;
        store.touchNode(node.id, new Date().toISOString());
        api.onContact?.(node);
        const remove = hub.add(node, call.request.knownVersion, net.version, {
          // One event at a time, each after the last has gone to the socket (see MAX_EVENT_BYTES);
          // a client that does not read for WATCH_DRAIN_MS is cut off, and gets a snapshot when
          // it returns.
          send: eventWriter(call, encoder),
          end: (err) => {
            remove();
            if (!call.cancelled) call.emit('error', toGrpcError(err));
          },
        }, call.request.viewDigest ?? '');
        call.on('cancelled', remove);
        call.on('close', remove);
        opts.onWatch?.(node);
      })().catch((err: unknown) => {
        if (!(err instanceof MeshError)) log.error({ err }, 'watch failed');
        call.emit('error', toGrpcError(err));
      });
    },
  });
  for (const x of opts.services ?? []) server.addService(x.definition, x.implementation);
  const creds = grpc.ServerCredentials.createSsl(null, [{ cert_chain: Buffer.from(`${opts.tls.certPem.trim()}\n${opts.tls.caCertPem.trim()}\n`), private_key: Buffer.from(opts.tls.keyPem) }], false);
  // The listening socket is ours (grpc-js's own listen takes no backlog); grpc-js gets each
  // connection through its public connection injector, TLS and HTTP/2 as with bindAsync.
  const injector = server.createConnectionInjector(creds);
  const accepted = new Set<Socket>();
  const listener = createServer((socket) => {
    accepted.add(socket);
    socket.once('close', () => accepted.delete(socket));
    opts.beforeConnection?.();
    injector.injectConnection(socket);
  });
  const port = await new Promise<number>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen({ host: opts.host, port: opts.port, backlog: LISTEN_BACKLOG }, () => {
      listener.off('error', reject);
      resolve((listener.address() as AddressInfo).port);
    });
  });
  return {
    port,
    close: (graceMs = 2000) =>
      new Promise<void>((resolve) => {
        listener.close();
        hub.close();
        // Whatever grpc-js has not ended by then (a connection still in its TLS handshake is no
        // session of its own yet) is ended here: the sockets are ours.
        const done = () => {
          for (const socket of accepted) socket.destroy();
          resolve();
        };
        const t = setTimeout(() => {
          server.forceShutdown();
          done();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(t);
          done();
        });
      }),
  };
}
