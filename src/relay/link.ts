// The standalone relay (`meshctl relay`): a Relay on this host, registered with a controller over
// RelayService.Attach (TLS to the CA pinned in the relay token, the relay secret as bearer). It
// opens and closes pairs on the controller's command. When the stream breaks it keeps every pair
// forwarding (the nodes' traffic does not depend on the controller), reconnects with backoff to
// each controller of the token in turn, and says again which pairs it holds.
import * as grpc from '@grpc/grpc-js';
import { relayService } from '../rpc/proto.ts';
import { fetchPinnedCa } from '../net/pinned-ca.ts';
import { decodeRelayToken, type RelayToken } from '../core/relay-token.ts';
import { backoffDelay } from '../core/backoff.ts';
import { Relay } from './relay.ts';

export interface RelayLinkOptions {
  token: string;
  /** Name among the controller's relays. */
  name: string;
  /** The address nodes send to. */
  publicHost: string;
  /** The UDP address to bind. */
  bind: { host: string; port: number };
  log: (msg: string) => void;
}

interface WirePair { id: string; network: string; a: string; b: string; portA: number; portB: number; expectA: string; expectB: string }
interface Command { seq: number; op: string; pair?: WirePair | null }

export interface RunningRelay {
  port: number;
  /** True while registered with a controller. */
  attached(): boolean;
  stop(): Promise<void>;
}

/** Starts the relay's sockets and its link to the controller. */
export async function startRelayLink(o: RelayLinkOptions): Promise<RunningRelay> {
  const token: RelayToken = decodeRelayToken(o.token);
  const relay = new Relay({ host: o.bind.host, port: o.bind.port, log: (m) => o.log(m) });
  const port = await relay.start();
  o.log(`relay listening on udp ${o.bind.host}:${port}; nodes send to ${o.publicHost}`);
  const specs = new Map<string, WirePair>();
  let stopped = false;
  let attached = false;
  let call: grpc.ClientDuplexStream<unknown, Command> | null = null;
  let client: grpc.Client | null = null;
  let timer: NodeJS.Timeout | undefined;
  let attempt = 0;
  let turn = 0;

  const held = (): WirePair[] => relay.list().flatMap((p) => {
    const s = specs.get(p.id);
    return s ? [{ ...s, portA: p.ports[0], portB: p.ports[1] }] : [];
  });

  const onCommand = async (c: Command) => {
    const p = c.pair;
    if (!p?.id) return;
    if (c.op === 'close') {
      relay.close(p.id);
      specs.delete(p.id);
      o.log(`pair ${p.id} closed`);
      return;
    }
    if (c.op !== 'open') return;
    try {
      const opened = await relay.open(p.id, p.expectA || null, p.expectB || null);
      specs.set(p.id, p);
      call?.write({ seq: c.seq, pair: { ...p, portA: opened.ports[0], portB: opened.ports[1] }, error: '' });
    } catch (err) {
      call?.write({ seq: c.seq, error: (err as Error).message });
    }
  };

  const connect = async () => {
    timer = undefined;
    if (stopped) return;
    const server = token.servers[turn++ % token.servers.length]!;
    try {
      const caPem = await fetchPinnedCa(server, token.caPin, { tokenKind: 'relay token' });
      if (stopped) return;
      const Ctor = relayService();
      client = new Ctor(server, grpc.credentials.createSsl(Buffer.from(caPem), null, null, { checkServerIdentity: () => undefined }), {
        'grpc.ssl_target_name_override': 'meshctl-controller',
        'grpc.keepalive_time_ms': 10_000,
        'grpc.keepalive_timeout_ms': 5_000,
        'grpc.keepalive_permit_without_calls': 1,
      });
      const md = new grpc.Metadata();
      md.set('authorization', `Bearer ${token.secret}`);
      const c = (client as unknown as { Attach(md: grpc.Metadata): grpc.ClientDuplexStream<unknown, Command> }).Attach(md);
      call = c;
      let ended = false;
      const end = (why: string) => {
        if (ended) return;
        ended = true;
        if (attached) o.log(`link to ${server} lost (${why}); pairs keep forwarding; reconnecting`);
        else o.log(`registering with ${server}: ${why}`);
        attached = false;
        call = null;
        client?.close();
        retry();
      };
      const pairs = held();
      const registered = () => {
        if (attached || ended || call !== c) return;
        attached = true;
        attempt = 0;
        o.log(`registered with ${server} as ${o.name} (holding ${pairs.length} pair(s))`);
      };
      c.on('data', (cmd: Command) => {
        registered();
        void onCommand(cmd);
      });
      c.on('error', (err: grpc.ServiceError) => end(err.details || err.message));
      c.on('end', () => end('the controller closed the stream'));
      c.write({ hello: { name: o.name, host: o.publicHost, pairs }, seq: 0, error: '' });
      // The controller sends nothing until it has a pair for us: a stream alive after 1 s is registered.
      setTimeout(registered, 1000).unref();
    } catch (err) {
      o.log(`registering with ${server}: ${(err as Error).message}`);
      retry();
    }
  };
  const retry = () => {
    if (stopped || timer) return;
    timer = setTimeout(() => void connect(), backoffDelay(attempt++, Math.random, 500, 5_000));
  };
  void connect();

  return {
    port,
    attached: () => attached,
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      call?.cancel();
      client?.close();
      await relay.stop();
    },
  };
}
