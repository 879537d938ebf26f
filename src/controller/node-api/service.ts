// The node API's logic, apart from gRPC: join, authenticate, check in, leave, views.
import { randomUUID } from 'node:crypto';
import { MeshError } from '../../core/errors.ts';
import { assertDnsLabel, assertPort } from '../../core/network.ts';
import { hashSecret, newSecret, secretMatches } from '../../core/secret.ts';
import { observedEndpoint, peerHost, statedEndpoint } from '../../core/endpoint.ts';
import type { NodeView } from '../../core/view.ts';
import { byPublicKey, type ViewBuilder } from './view-builder.ts';
import type { ControllerContext } from '../context.ts';
import type { NodeRow } from '../store/store.ts';
import type { HealthBook } from '../health-book.ts';
import { catchUps, checkIns, failedJoins, joins, rateLimited } from '../metrics.ts';
import { JoinLimiter } from './join-limiter.ts';
import type { PathBook, PathUpdate, ReportedPeer } from '../nat/path-book.ts';
import { TokenBuckets } from './rate-limit.ts';
import { ReportBook } from '../report-book.ts';
import { deltasSince, inStepAt, type ChangeHistory } from './change-history.ts';
import type { PeerDelta } from '../../core/change.ts';

/** The least time between two endpoint or port changes of one node taken from check-ins. */
export const ENDPOINT_CHANGE_MS = 10_000;

const WG_KEY = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;

export interface JoinInput {
  network: string;
  keyName: string;
  keySecret: string;
  name: string;
  publicKey: string;
  listenPort: number;
  endpoint: string;
  localAddresses?: string[];
}

export interface CheckInInput {
  listenPort: number;
  endpoint: string;
  knownVersion: number;
  handshakes: (ReportedPeer & { latestHandshake: number })[];
  localAddresses?: string[];
  pathsTag?: string;
  /** The caller applies deltas in the reply instead of a whole view. */
  acceptsDeltas?: boolean;
  /** Digest of the view the caller holds (core/view-digest.ts). */
  viewDigest?: string;
  /** The caller has just opened its Watch stream from `knownVersion`, which brings it what it lacks. */
  watching?: boolean;
}

export class NodeApi {
  private readonly ctx: ControllerContext;
  private readonly health: HealthBook;
  private readonly limiter = new JoinLimiter();
  private readonly authLimiter = new JoinLimiter(20, 60_000);
  private readonly checkInRate = new TokenBuckets('check-ins from this node', 20, 5);
  private readonly watchRate = new TokenBuckets('Watch streams opened by this node', 10, 1);
  /** When each node's endpoint or port last changed by a check-in (a durable write and a push to
   * every stream of its network): at most one such change per ENDPOINT_CHANGE_MS. */
  private readonly endpointChangedAt = new Map<string, number>();
  private readonly views: ViewBuilder;
  private readonly paths: PathBook | null;
  private readonly history: ChangeHistory | null;
  /** Told of every check-in and Watch stream opened (the admin event stream's status events). */
  onContact: ((node: NodeRow) => void) | undefined;
  /** Told of the members a node reported handshakes with (ids), after each check-in with some. */
  onHandshakes: ((network: string, ids: readonly string[]) => void) | undefined;
  /** What each node said at its last check-in (versions, handshakes, traffic): soft state for admins. */
  readonly reports = new ReportBook();

  constructor(ctx: ControllerContext, health: HealthBook, views: ViewBuilder, paths: PathBook | null = null, history: ChangeHistory | null = null) {
    this.ctx = ctx;
    this.history = history;
    this.health = health;
    this.views = views;
    this.paths = paths;
  }

  /** Admits a node with an access key. `source` is the caller's address as grpc-js reports it. */
  async join(req: JoinInput, source: string): Promise<{ nodeId: string; credential: string; view: NodeView; paths: PathUpdate['paths']; pathsTag: string }> {
    const sourceHost = peerHost(source) ?? source;
    try {
      this.limiter.check(sourceHost);
    } catch (err) {
      rateLimited.inc({ what: 'join' });
      this.ctx.log.warn({ source: sourceHost, network: req.network, key: req.keyName }, 'join refused: rate limited (too many failed joins from this address)');
      throw err;
    }
    try {
      assertDnsLabel(req.name, 'node name');
      const net = await this.ctx.store.getNetwork(req.network);
      if (!net) throw new MeshError('NOT_FOUND', `network "${req.network}" does not exist on this controller`, { hint: 'Ask an admin for a current token' });
      const listenPort = req.listenPort || net.listenPort; // 0: the network's default
      assertPort(listenPort);
      if (!WG_KEY.test(req.publicKey)) {
        throw new MeshError('INVALID_ARGUMENT', 'the public key is not a WireGuard key (44 characters of base64)');
      }
      const endpoint = req.endpoint ? statedEndpoint(req.endpoint, listenPort) : observedEndpoint(source, listenPort);
      const id = randomUUID();
      const secret = newSecret();
      const row = await this.ctx.store.joinNode(
        { network: req.network, name: req.keyName, secret: req.keySecret },
        { id, network: req.network, name: req.name, publicKey: req.publicKey, endpoint, endpointStated: req.endpoint !== '', listenPort, credentialHash: hashSecret(secret) },
        this.ctx.now(),
      );
      // A retried join gets the node made the first time (its own id), with the fresh credential.
      const retried = row.id !== id;
      this.ctx.log.info({ network: row.network, node: row.name, address: row.address, approved: row.approved, ...(retried ? { retried: true } : {}) }, retried ? 'node joined (a retry: the same node, a new credential)' : 'node joined');
      joins.inc({ network: row.network });
      this.paths?.contact(row, source, req.localAddresses ?? []);
      const paths = this.paths ? await this.paths.pathsFor(row) : { paths: [], tag: '' };
      this.paths?.holds(row.id, paths.tag);
      return { nodeId: row.id, credential: `${row.id}.${secret}`, view: await this.view(row), paths: paths.paths, pathsTag: paths.tag };
    } catch (err) {
      // Guessing costs: a wrong secret or an unknown network/key counts. A real key that is used up,
      // revoked or expired proves the caller had the secret, so it does not.
      if (err instanceof MeshError && (err.code === 'KEY_INVALID' || err.code === 'NOT_FOUND')) this.limiter.fail(sourceHost);
      const code = err instanceof MeshError ? err.code : 'INTERNAL';
      failedJoins.inc({ code });
      // Never the secret: the network, key name, node name and where it came from.
      this.ctx.log.warn({ source: sourceHost, network: req.network, key: req.keyName, node: req.name, code, reason: err instanceof MeshError ? err.message : 'internal error' }, 'join refused');
      throw err;
    }
  }

  /** The node a credential ("<id>.<secret>") belongs to; UNAUTHENTICATED or NODE_REMOVED otherwise. */
  async authenticate(credential: string | undefined, source?: string): Promise<NodeRow> {
    // Guessing credentials costs like guessing join keys: failures are limited per source address.
    const from = source === undefined ? undefined : (peerHost(source) ?? source);
    if (from !== undefined) this.authLimiter.check(from);
    try {
      return await this.checkCredential(credential);
    } catch (err) {
      if (from !== undefined && err instanceof MeshError && err.code === 'UNAUTHENTICATED') this.authLimiter.fail(from);
      throw err;
    }
  }

  /** Per node: check-ins and Watch streams opened, so that one node cannot keep the controller busy. */
  limitCall(node: NodeRow, kind: 'check-in' | 'watch', now = Date.now()): void {
    (kind === 'check-in' ? this.checkInRate : this.watchRate).take(node.id, now);
  }

  private async checkCredential(credential: string | undefined): Promise<NodeRow> {
    const m = /^Bearer ([0-9a-f-]{36})\.([A-Za-z0-9_-]{20,100})$/.exec(credential ?? '');
    const refuse = () => new MeshError('UNAUTHENTICATED', 'the node credential was not accepted', { hint: 'Join again with a fresh token: meshctl join -t TOKEN' });
    if (!m) throw refuse();
    const [, id, secret] = m as unknown as [string, string, string];
    const node = await this.ctx.store.getNodeById(id);
    if (node) {
      if (!secretMatches(secret, node.credentialHash)) throw refuse();
      return node;
    }
    const gone = await this.ctx.store.getRemovedNode(id);
    if (gone && secretMatches(secret, gone.credentialHash)) {
      const why = gone.reason === 'left' ? 'left it' : gone.reason === 'network-deleted' ? 'the network was deleted' : 'an admin deleted it';
      throw new MeshError('NODE_REMOVED', `this node (${gone.name}) was removed from network "${gone.network}" at ${gone.removedAt} (${why})`, {
        hint: `Clean up locally with: meshctl leave -n ${gone.network}; then join again with a new token if it should be back`,
      });
    }
    throw refuse();
  }

  /** The node's own view: itself, the settings and its peers. */
  view(node: NodeRow): Promise<NodeView> {
    return this.views.view(node);
  }

  /** Records contact and health, applies reported changes, and returns the view when the caller is behind. */
  async checkIn(node: NodeRow, req: CheckInInput, source: string): Promise<{ version: number; changed: boolean; view?: NodeView; deltas?: { version: number; delta: PeerDelta }[]; inStep?: boolean; controllers: string[]; paths?: PathUpdate['paths']; pathsTag?: string }> {
    const now = this.ctx.now();
    this.ctx.store.touchNode(node.id, now.toISOString());
    checkIns.inc({ network: node.network });
    let current = node;
    const listenPort = req.listenPort || node.listenPort;
    assertPort(listenPort);
    const endpoint = req.endpoint ? statedEndpoint(req.endpoint, listenPort) : (observedEndpoint(source, listenPort) ?? node.endpoint);
    if (listenPort !== node.listenPort || endpoint !== node.endpoint || node.endpointStated !== (req.endpoint !== '')) {
      // Rate-limited: a node alternating its endpoint would otherwise force a durable write and a
      // push to every stream on every check-in. A change held back is taken at a later check-in.
      const last = this.endpointChangedAt.get(node.id);
      if (last === undefined || now.getTime() - last >= ENDPOINT_CHANGE_MS || now.getTime() < last) {
        this.endpointChangedAt.set(node.id, now.getTime());
        if (this.endpointChangedAt.size > 100_000) this.endpointChangedAt.delete(this.endpointChangedAt.keys().next().value!);
        current = await this.ctx.store.updateNode(node.id, { listenPort, endpoint, endpointStated: req.endpoint !== '' });
      }
    }
    let reported: CheckInInput['handshakes'] = [];
    if (req.handshakes.length && node.approved) {
      // Only an approved member's word counts, and only about the other approved members of its network.
      const members = byPublicKey((await this.views.membersOf(node.network)).rows);
      const peerOf = (key: string) => {
        const n = members.get(key);
        return n && n.approved && n.id !== node.id ? n : undefined;
      };
      // the members' own key strings, not the request's: the report book keeps them (N per node)
      const seen = new Set<string>();
      reported = req.handshakes.flatMap((h) => {
        const p = peerOf(h.publicKey);
        if (!p || seen.has(p.publicKey)) return [];
        seen.add(p.publicKey);
        return [{ ...h, publicKey: p.publicKey }];
      });
      const about = reported.map((h) => ({ nodeId: peerOf(h.publicKey)!.id, latestHandshake: h.latestHandshake }));
      this.health.report(node.network, node.id, about, now.getTime());
      this.onHandshakes?.(node.network, about.map((a) => a.nodeId));
    }
    this.reports.record(node.network, node.id, req.knownVersion, reported, now.getTime());
    let paths: { paths?: PathUpdate['paths']; pathsTag?: string } = {};
    if (this.paths) {
      // An agent that reports no addresses (an older one) keeps those it reported before.
      this.paths.contact(current, source, req.localAddresses?.length ? req.localAddresses : undefined);
      if (req.handshakes.length && current.approved) await this.paths.report(current, req.handshakes);
      const tag = this.paths.tagOf(current.network);
      paths = tag === req.pathsTag && !this.paths.pendingIn(current.network) ? { pathsTag: tag } : { paths: (await this.paths.pathsFor(current)).paths, pathsTag: tag };
      this.paths.holds(current.id, tag);
    }
    const net = await this.ctx.store.getNetwork(node.network);
    const version = net?.version ?? 0;
    this.onContact?.(current);
    // Every check-in names the controllers, so that a node that joined before a controller was
    // added (or before the store moved to PostgreSQL) learns where to fail over to.
    const controllers = this.ctx.grpcPublicAddr.split(',');
    if (req.knownVersion === version) return { version, changed: false, controllers, ...paths };
    // An agent that has just opened its Watch stream from the same version gets the catch-up
    // there. Both answers at once were written to its connection together: one write of 16-64 KB
    // during a burst of joins, and Node's TLS layer keeps a buffer of that size for as long as
    // the connection lives (see MAX_EVENT_BYTES in grpc-server.ts).
    if (req.watching) return { version: req.knownVersion, changed: false, controllers, ...paths };
    // A few changes behind: the deltas since its version (an agent coming back to a restarted
    // controller, or starting just after its join), not a whole view of the network; up to the
    // changes seen here, when they reach what a whole view would hold now (the members' version,
    // which trails the network's by the writes still on their way, as the view's does).
    const caught = this.history ? await deltasSince(this.history, this.views, node.network, req.knownVersion, version, { id: current.id, approved: current.approved }) : null;
    // It holds every change made here so far: those still being written reach it as they are
    // made (on its Watch stream, or at its next check-in), not a whole view now.
    if (caught && caught.to <= req.knownVersion) return { version: req.knownVersion, changed: false, controllers, ...paths };
    if (caught && req.acceptsDeltas) {
      catchUps.inc({ how: 'deltas', via: 'check-in' });
      return { version: caught.to, changed: true, deltas: caught.events, controllers, ...paths };
    }
    // Not held here (a restarted controller), or versions moved past what the node holds (after
    // a crash): what it holds may still be the current view. Its digest says so in O(1).
    const inStep = req.acceptsDeltas ? await inStepAt(this.views, current, req.viewDigest, req.knownVersion) : null;
    if (inStep !== null) {
      catchUps.inc({ how: 'in-step', via: 'check-in' });
      return { version: inStep, changed: true, inStep: true, controllers, ...paths };
    }
    // The view's own version: it may trail the network's by changes still on their way to the
    // view builder, and the node must not believe it holds them.
    const view = await this.view(current);
    catchUps.inc({ how: 'view', via: 'check-in' });
    return { version: view.version, changed: true, view, controllers, ...paths };
  }

  async leave(node: NodeRow): Promise<void> {
    await this.ctx.store.leaveNode(node.id);
    this.ctx.log.info({ network: node.network, node: node.name }, 'node left');
  }
}
