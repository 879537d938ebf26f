// The agent's gRPC client of the node API: TLS trusting only the pinned controller CA, the
// node credential on every call, errors mapped back to MeshErrors.
import * as grpc from '@grpc/grpc-js';
import { nodeService } from '../rpc/proto.ts';
import { fromGrpcError } from '../rpc/errors.ts';
import type { NodeView } from '../core/view.ts';
import type { PathUpdate, PeerDelta, WatchEvent } from '../core/change.ts';

export interface JoinReply {
  nodeId: string;
  credential: string;
  view: NodeView;
  /** Where to reach each peer (an older controller sends none), and their version. */
  paths: PathUpdate['paths'];
  pathsTag: string;
}

export interface CheckInReply {
  version: number;
  changed: boolean;
  view: NodeView | null;
  /** With `acceptsDeltas`: the deltas from the version the caller held to `version`, in order,
   * instead of `view` (it was a few changes behind). */
  deltas: { version: number; delta: PeerDelta }[];
  /** The view held (by the digest sent) is the current one at `version`. */
  inStep: boolean;
  /** Every controller's node API address, in order ([] from a controller that does not say). */
  controllers: string[];
  /** Set when the paths the node holds (its pathsTag) are not the current ones. */
  paths: PathUpdate | null;
}

export interface ReportedPeer {
  publicKey: string;
  latestHandshake: number;
  rxBytes: number;
  txBytes: number;
  /** NAT traversal: the endpoint WireGuard holds, the path, whether every candidate failed, what won. */
  endpoint?: string;
  path?: string;
  exhausted?: boolean;
  winner?: { endpoint: string; kind: string } | null;
}

export interface CheckInRequest {
  listenPort: number;
  endpoint: string;
  knownVersion: number;
  handshakes: ReportedPeer[];
  localAddresses?: string[];
  pathsTag?: string;
  /** Take `deltas` in the reply when a few changes behind, instead of a whole view. */
  acceptsDeltas?: boolean;
  /** Digest of the view held (core/view-digest.ts): a reply may then say it is still current. */
  viewDigest?: string;
  /** A Watch stream from `knownVersion` has just been opened: the reply need not bring the view. */
  watching?: boolean;
}

type Raw = grpc.Client & Record<string, (...args: unknown[]) => unknown>;

export class NodeClient {
  private readonly raw: Raw;
  readonly server: string;
  private credential: string | null;

  constructor(server: string, caPem: string, credential: string | null = null) {
    this.server = server;
    this.credential = credential;
    // The CA is private to this controller and pinned, so the server name need not match.
    const creds = grpc.credentials.createSsl(Buffer.from(caPem), null, null, { checkServerIdentity: () => undefined });
    const Ctor = nodeService();
    this.raw = new Ctor(server, creds, {
      // SNI must be a name (Node refuses an IP as servername); identity is checked by the pinned CA.
      'grpc.ssl_target_name_override': 'meshctl-controller',
      'grpc.keepalive_time_ms': 20_000,
      'grpc.keepalive_timeout_ms': 10_000,
      'grpc.keepalive_permit_without_calls': 1,
      'grpc.initial_reconnect_backoff_ms': 500,
      'grpc.max_reconnect_backoff_ms': 5_000,
    }) as unknown as Raw;
  }

  private meta(): grpc.Metadata {
    const m = new grpc.Metadata();
    if (this.credential) m.set('authorization', `Bearer ${this.credential}`);
    return m;
  }

  private unary<Res>(method: string, req: unknown, timeoutMs = 15_000): Promise<Res> {
    return new Promise((resolve, reject) => {
      this.raw[method]!(req, this.meta(), { deadline: Date.now() + timeoutMs }, (err: grpc.ServiceError | null, res: Res) =>
        err ? reject(fromGrpcError(err, this.server)) : resolve(res),
      );
    });
  }

  async join(req: { network: string; keyName: string; keySecret: string; name: string; publicKey: string; listenPort: number; endpoint: string; localAddresses?: string[] }, timeoutMs?: number): Promise<JoinReply> {
    const r = await this.unary<JoinReply>('Join', req, timeoutMs);
    this.credential = r.credential;
    return { ...r, paths: r.paths ?? [], pathsTag: r.pathsTag ?? '' };
  }

  async checkIn(req: CheckInRequest, timeoutMs?: number): Promise<CheckInReply> {
    const r = await this.unary<{ version: number; changed: boolean; view?: NodeView | null; deltas?: { version: number; delta?: PeerDelta | null }[]; inStep?: boolean; controllers?: string[]; paths?: PathUpdate['paths']; pathsTag?: string }>('CheckIn', req, timeoutMs);
    // proto3 sends no empty lists: a new tag with no paths is "no peers". Paths under the same
    // tag: changed by this very check-in (a relay assigned), not yet under a new tag.
    const paths = r.pathsTag && (r.pathsTag !== req.pathsTag || (r.paths?.length ?? 0) > 0) ? { paths: r.paths ?? [], tag: r.pathsTag } : null;
    const view = r.changed && r.view ? r.view : null;
    const deltas = r.changed && !view ? (r.deltas ?? []).flatMap((e) => (e.delta ? [{ version: e.version, delta: e.delta }] : [])) : [];
    return { version: r.version, changed: r.changed, view, deltas, inStep: r.changed && !view && r.inStep === true, controllers: r.controllers ?? [], paths };
  }

  async leave(): Promise<void> {
    await this.unary('Leave', {});
  }

  /** Opens the Watch stream; `onEvent` gets each event, `onEnd` the error that ended it. Returns a cancel. */
  watch(knownVersion: number, onEvent: (ev: WatchEvent) => void, onEnd: (err: Error) => void, viewDigest = ''): () => void {
    const call = this.raw.Watch!({ knownVersion, viewDigest }, this.meta()) as grpc.ClientReadableStream<WatchEvent & { event?: string }>;
    let done = false;
    const end = (err: Error) => {
      if (!done) {
        done = true;
        onEnd(err);
      }
    };
    call.on('data', (ev: WatchEvent & { event?: string }) => onEvent(ev));
    call.on('error', (err: grpc.ServiceError) => end(err.code === grpc.status.CANCELLED ? err : fromGrpcError(err, this.server)));
    call.on('end', () => end(new Error('the controller closed the stream')));
    return () => call.cancel();
  }

  close(): void {
    this.raw.close();
  }
}
