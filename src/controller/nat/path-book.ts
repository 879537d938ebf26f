// NAT traversal on the controller: soft state about where nodes can be reached (the address
// their connection comes from, their LAN addresses, the endpoints their peers' WireGuard holds
// for them), what each node reports about each peer (direct, relayed, exhausted), and the relay
// pairs. From it, every node's paths (ordered candidates and relay per peer) are pushed to both
// ends of a pair together. Kept in memory: it changes with every NAT mapping, and check-ins
// rebuild it within one period after a restart; the relay pairs alone are kept by the relays
// (relay-pool.ts), which hand them back here after a restart.
import { isIP } from 'node:net';
import { randomBytes } from 'node:crypto';
import { candidatesFor, pairKey, OBSERVATION_TTL_MS, type Candidate, type CandidateKind, type NatFacts, type Observation } from '../../core/candidates.ts';
import { HANDSHAKE_FRESH_MS, REPORT_TTL_MS, hardNat, relayDecision, type PathReport } from '../../core/path.ts';
import { formatHostPort } from '../../core/address.ts';
import { isDefaultPath, type Change } from '../../core/change.ts';
import type { NodeRow, Store } from '../store/store.ts';
import { byPublicKey, type ViewBuilder } from '../node-api/view-builder.ts';
import type { Logger } from 'pino';
import type { RelayAssignment, RelayProvider } from './relay-pool.ts';

/** Streams sent paths per turn of the event loop. */
const PUSH_CHUNK = 256;

export interface PeerPath {
  publicKey: string;
  candidates: Candidate[];
  relay: string;
}

/** A node's paths: every peer (`base` empty), or only the peers that changed since the paths
 * version `base` (a node holding another version ignores it and gets all at its next check-in).
 * `tag` is the network's paths version this brings the node to. */
export interface PathUpdate {
  paths: PeerPath[];
  tag: string;
  base?: string;
}

/** A peer as a check-in reports it (PeerHandshake on the wire). */
export interface ReportedPeer {
  publicKey: string;
  latestHandshake: number;
  /** WireGuard's byte counters for the peer (absent from older agents). */
  rxBytes?: number;
  txBytes?: number;
  endpoint?: string;
  path?: string;
  exhausted?: boolean;
  winner?: { endpoint: string; kind: string } | null;
}

/** What `nodes show` says about one peer of a node: what that node reported. */
export interface PeerPathView {
  name: string;
  path: 'direct' | 'relayed' | 'probing' | 'unknown';
  endpoint: string | null;
  winner: Candidate | null;
  relay: string | null;
}

export type { RelayProvider } from './relay-pool.ts';

/** Pushes a node's paths on its Watch stream; `connected` says whether it has one. */
export interface PathSink {
  send(network: string, nodeId: string, update: PathUpdate): void;
  connected(network: string, nodeId: string): boolean;
}

interface Facts {
  site: string | null;
  localAddresses: string[];
  /** observer node id -> what it observed */
  observed: Map<string, Observation>;
  contact: number;
}

interface RelayEntry {
  network: string;
  relay: string;
  a: string; // node ids, a < b
  b: string;
  /** node id -> the relay endpoint that node sends to */
  endpoint: Map<string, string>;
}

/** A node is in contact when it checked in or joined this recently (periodic check-ins: 15 s). */
const CONTACT_MS = 45_000;
/** After a start, relayed pairs are offered no direct candidates for this long: the NAT facts
 * that say a pair cannot go direct (see hopeless) live in memory and come back with the first
 * round of check-ins (15 s); until then a retry would only take such a pair off its relay. */
export const RESTART_QUIET_MS = 20_000;
const KINDS: readonly CandidateKind[] = ['stated', 'local', 'observed', 'controller'];

const hostOf = (source: string): string | null => {
  const s = source.replace(/^ipv[46]:/, '');
  const m = /^\[([^\]]+)\]:\d+$/.exec(s) ?? /^([^:]+):\d+$/.exec(s);
  const host = m?.[1]?.replace(/^::ffff:/, '');
  return host && isIP(host) ? host : null;
};
const cleanAddresses = (xs: readonly string[] | undefined) => [...new Set((xs ?? []).filter((a) => isIP(a) === 4 && !a.startsWith('127.') && !a.startsWith('169.254.')))].slice(0, 16);

/** Whether two lists of path entries say the same. */
function sameEntries(a: readonly PeerPath[], b: readonly PeerPath[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.publicKey !== y.publicKey || x.relay !== y.relay || x.candidates.length !== y.candidates.length) return false;
    for (let j = 0; j < x.candidates.length; j++) if (x.candidates[j]!.endpoint !== y.candidates[j]!.endpoint || x.candidates[j]!.kind !== y.candidates[j]!.kind) return false;
  }
  return true;
}

/** A receiver at no site: plain() then ignores LAN addresses. */
const NOWHERE: NatFacts = { id: '', listenPort: 0, stated: null, site: null, localAddresses: [], observed: [] };

/** Which members of a network can have an entry other than the default in a full update. */
interface FullIndex {
  members: readonly NodeRow[];
  epoch: number;
  /** Members whose entry differs from the default wherever the receiver is (stated endpoint,
   * observed endpoints, a site other than their endpoint's). */
  odd: NodeRow[];
  /** Members with LAN addresses, by site: candidates for receivers at that site. */
  lanBySite: Map<string, NodeRow[]>;
  byId: Map<string, NodeRow>;
  position: Map<string, number>;
}

export class PathBook {
  private readonly facts = new Map<string, Facts>();
  /** node id -> peer public key -> report */
  private readonly reports = new Map<string, Map<string, PathReport & { endpoint: string; winner: Candidate | null }>>();
  private readonly relays = new Map<string, RelayEntry>();
  /** network -> paths version: grows with every change pushed */
  private readonly versions = new Map<string, number>();
  /** network -> nodes whose paths as peers changed (null: a full push to these nodes) */
  private readonly pending = new Map<string, { changed: Set<string>; full: Set<string> }>();
  private readonly opening = new Set<string>();
  /** Grows with every change of the facts that decide whether an entry is the default. */
  private factsEpoch = 0;
  /** network -> the members whose entries may differ from the default (see fullIndex) */
  private readonly fullIndexes = new Map<string, FullIndex>();
  /** Members named in some update of this run (see needed). */
  private readonly explicit = new Set<string>();
  /** network -> the push under way (see schedule) */
  private readonly pushing = new Map<string, Promise<void>>();
  private sink: PathSink = { send: () => {}, connected: () => false };
  private readonly unsubscribe: () => void;
  /** The paths version each node was last answered with or confirmed to hold. */
  private readonly held = new Map<string, string>();
  /** Part of every paths tag: versions start again at each start (and each controller of a
   * PostgreSQL cluster counts its own), so a tag from another run must never look current. */
  private readonly epoch = randomBytes(4).toString('hex');
  private readonly started: number;
  private readonly quietTimer: NodeJS.Timeout;

  private readonly views: ViewBuilder;
  private readonly relay: RelayProvider | null;
  private readonly log: Logger;
  private readonly now: () => number;

  constructor(views: ViewBuilder, store: Store, relay: RelayProvider | null, log: Logger, now: () => number = Date.now) {
    this.views = views;
    this.relay = relay;
    this.log = log;
    this.now = now;
    this.started = now();
    this.unsubscribe = store.subscribe((c) => this.onChange(c));
    // The quiet time is over: relayed pairs get their candidates (those that can go direct).
    this.quietTimer = setTimeout(() => {
      for (const r of this.relays.values()) this.schedule(r.network, [r.a, r.b]);
    }, RESTART_QUIET_MS);
    this.quietTimer.unref();
    relay?.setListener({ adopt: (a) => void this.adopt(a), lost: (a) => void this.lost(a) });
  }

  private entryOf(a: RelayAssignment): RelayEntry {
    const at = (port: number) => formatHostPort({ host: a.host, port });
    return { network: a.network, relay: a.relay, a: a.a, b: a.b, endpoint: new Map([[a.a, at(a.ports[0])], [a.b, at(a.ports[1])]]) };
  }

  /** A pair a relay holds (restored after a restart, or a relay that attached again): kept while
   * both nodes are still members, so that the nodes keep their relay endpoints. */
  private async adopt(a: RelayAssignment): Promise<void> {
    const members = await this.views.membersOf(a.network).then((m) => m.rows, () => [] as NodeRow[]);
    const ok = (id: string) => members.some((m) => m.id === id && m.approved);
    if (!ok(a.a) || !ok(a.b) || pairKey(a.a, a.b) !== a.id) {
      this.relay?.close(a.id);
      return;
    }
    this.relays.set(a.id, this.entryOf(a));
    this.schedule(a.network, [a.a, a.b]);
  }

  /** A pair's relay went away: drop it, and assign another at once if the pair still needs one. */
  private async lost(a: RelayAssignment): Promise<void> {
    const e = this.relays.get(a.id);
    if (!e || e.relay !== a.relay) return;
    this.relays.delete(a.id);
    const members = await this.views.membersOf(a.network).then((m) => m.rows, () => [] as NodeRow[]);
    const x = members.find((m) => m.id === a.a);
    const y = members.find((m) => m.id === a.b);
    if (x && y) await this.decide(x, y);
    this.schedule(a.network, [a.a, a.b]);
  }

  /** Where pushes go (the Watch hub). */
  setSink(sink: PathSink): void {
    this.sink = sink;
  }

  /** Stops following the store. The relay pairs stay open: they outlive a restart. */
  close(): void {
    clearTimeout(this.quietTimer);
    this.unsubscribe();
    this.relays.clear();
  }

  private factsOf(id: string): Facts {
    let f = this.facts.get(id);
    if (!f) this.facts.set(id, (f = { site: null, localAddresses: [], observed: new Map(), contact: 0 }));
    return f;
  }

  /** A join or check-in from `node`, its connection seen from `source`. */
  contact(node: NodeRow, source: string, localAddresses?: readonly string[]): void {
    const f = this.factsOf(node.id);
    f.contact = this.now();
    const site = hostOf(source);
    const lan = localAddresses === undefined ? f.localAddresses : cleanAddresses(localAddresses);
    // Before its first contact (a new controller run) its site was taken from its endpoint: the
    // same site found again changes nothing anyone was sent (a restart herd would otherwise be a
    // change per node, each pushed to every stream).
    const was = f.site ?? this.siteOfEndpoint(node);
    f.site = site; // the same as `was` changes no entry (see plain): no new factsEpoch for it
    if (site !== was || lan.join() !== f.localAddresses.join()) {
      const moved = site !== was;
      f.localAddresses = lan;
      this.factsEpoch++;
      // Its own site decides which peers' LAN addresses it gets: then its whole list changes.
      this.schedule(node.network, [node.id], moved ? [node.id] : []);
    }
  }

  /** What a check-in reports about the node's peers: observed endpoints and path states. */
  async report(node: NodeRow, peers: readonly ReportedPeer[]): Promise<void> {
    const now = this.now();
    const members = (await this.views.membersOf(node.network)).rows;
    const byKey = byPublicKey(members);
    const site = this.factsOf(node.id).site;
    let mine = this.reports.get(node.id);
    if (!mine) this.reports.set(node.id, (mine = new Map()));
    for (const p of peers) {
      const peer = byKey.get(p.publicKey);
      if (!peer || peer.id === node.id) continue;
      const fresh = p.latestHandshake > 0 && now - p.latestHandshake * 1000 < HANDSHAKE_FRESH_MS;
      // Kept per pair of members (N² in a full mesh): the strings kept are ones held already
      // (the member's key, its endpoint, the last observation's, literals), not the request's.
      const path = p.path === 'direct' ? 'direct' : p.path === 'relayed' ? 'relayed' : p.path === 'probing' ? 'probing' : '';
      const pf = this.facts.get(peer.id);
      const before = pf?.observed.get(node.id);
      const endpoint = !p.endpoint ? '' : p.endpoint === before?.endpoint ? before.endpoint : p.endpoint === peer.endpoint ? peer.endpoint : p.endpoint;
      if (fresh && endpoint && path !== 'relayed' && path !== 'probing' && !this.isRelayEndpoint(endpoint)) {
        // Only a node behind a NAT can turn out to map per destination (hard): for any other,
        // what is seen changes no pair's decision, and deciding all its pairs again at every
        // first observation made a full mesh's first round of reports O(N³).
        const wasHard = this.natted(peer) && this.hard(peer);
        this.factsOf(peer.id).observed.set(node.id, { endpoint, at: now, observerSite: site });
        if (before?.endpoint !== p.endpoint) {
          this.factsEpoch++;
          this.schedule(node.network, [peer.id]);
          // What was seen may show a NAT that maps per destination: relay its hopeless pairs now.
          if (this.natted(peer) && this.hard(peer) !== wasHard) {
            for (const m of members) if (m.id !== peer.id && m.approved && peer.approved) await this.decide(peer, m);
          }
        }
      }
      if (path) {
        const w = p.winner && p.winner.endpoint && (KINDS as readonly string[]).includes(p.winner.kind) ? { endpoint: p.winner.endpoint, kind: p.winner.kind as CandidateKind } : null;
        mine.set(peer.publicKey, { path, exhausted: !!p.exhausted, at: now, endpoint, winner: w });
        await this.decide(node, peer);
      }
    }
  }

  private isRelayEndpoint(ep: string): boolean {
    for (const r of this.relays.values()) for (const e of r.endpoint.values()) if (e === ep) return true;
    return false;
  }

  private healthy(id: string): boolean {
    return this.now() - (this.facts.get(id)?.contact ?? 0) <= CONTACT_MS;
  }

  /** Behind a NAT: the address its connection comes from is not one of its own. */
  private natted(n: NodeRow): boolean {
    const f = this.facts.get(n.id);
    return !!f && f.site !== null && f.localAddresses.length > 0 && !f.localAddresses.includes(f.site);
  }

  /** Behind a NAT that maps per destination: seen from another site on a port other than its own. */
  private hard(n: NodeRow): boolean {
    const f = this.facts.get(n.id);
    if (!f || !this.natted(n)) return false;
    const ports = [...f.observed.values()]
      .filter((o) => o.observerSite !== f.site && this.now() - o.at <= OBSERVATION_TTL_MS && hostOf(o.endpoint) === f.site)
      .map((o) => Number(o.endpoint.slice(o.endpoint.lastIndexOf(':') + 1)));
    return hardNat(n.listenPort, ports);
  }

  /** One end maps per destination and the other is behind a NAT too: no hole can be punched. */
  private hopeless(a: NodeRow, b: NodeRow): boolean {
    return (this.hard(a) && this.natted(b)) || (this.hard(b) && this.natted(a));
  }

  /** Pair decisions taken (for tests). */
  private decisions = 0;

  private async decide(x: NodeRow, y: NodeRow): Promise<void> {
    this.decisions++;
    const [a, b] = x.id < y.id ? [x, y] : [y, x];
    const key = pairKey(a.id, b.id);
    const assigned = this.relays.has(key);
    const d = relayDecision({
      hopeless: this.hopeless(a, b),
      assigned,
      a: this.reports.get(a.id)?.get(b.publicKey),
      b: this.reports.get(b.id)?.get(a.publicKey),
      aHealthy: this.healthy(a.id),
      bHealthy: this.healthy(b.id),
      now: this.now(),
    });
    if (d === 'release') {
      this.relays.delete(key);
      this.relay?.close(key);
      this.log.info({ network: a.network, pair: [a.name, b.name] }, 'pair is direct again; relay released');
      this.schedule(a.network, [a.id, b.id]);
    } else if (d === 'assign' && this.relay?.available() && !this.opening.has(key)) {
      this.opening.add(key);
      try {
        const got = await this.relay.open({ id: key, network: a.network, a: a.id, b: b.id, expectA: this.facts.get(a.id)?.site ?? null, expectB: this.facts.get(b.id)?.site ?? null });
        this.relays.set(key, this.entryOf(got));
        this.log.info({ network: a.network, pair: [a.name, b.name], relay: got.relay, host: got.host, ports: got.ports }, 'no direct path; pair relayed');
        this.schedule(a.network, [a.id, b.id]);
      } catch (err) {
        this.log.warn({ err, pair: [a.name, b.name] }, 'opening relay ports failed');
      } finally {
        this.opening.delete(key);
      }
    }
  }

  /** Where a node is, by its endpoint, until its first contact says (not for a stated endpoint). */
  private siteOfEndpoint(n: NodeRow): string | null {
    return n.endpoint && !n.endpointStated ? hostOf(n.endpoint) : null;
  }

  private natFacts(n: NodeRow): NatFacts {
    const f = this.facts.get(n.id);
    const site = f?.site ?? this.siteOfEndpoint(n);
    return {
      id: n.id,
      listenPort: n.listenPort,
      stated: n.endpointStated ? n.endpoint : null,
      site,
      localAddresses: f?.localAddresses ?? [],
      observed: [...(f?.observed.values() ?? [])],
    };
  }

  /** The paths of `node` to every approved peer, tagged with the network's paths version. */
  async pathsFor(node: NodeRow): Promise<PathUpdate> {
    const members = (await this.views.membersOf(node.network)).rows;
    return { paths: this.compute(node, members, true), tag: this.tagOf(node.network) };
  }

  /** True while a change of the network's paths waits to be pushed (this turn's decisions): a
   * check-in that caused it gets the paths now, even though the tag has not moved yet. */
  pendingIn(network: string): boolean {
    return (this.pending.get(network)?.changed.size ?? 0) > 0;
  }

  /** The network's current paths version, as a tag: a node holding it needs nothing. */
  tagOf(network: string): string {
    return this.tag(this.versions.get(network) ?? 0);
  }

  private tag(version: number): string {
    return `${this.epoch}.${version}`;
  }

  private entry(node: NodeRow, m: NodeRow, self: NatFacts, now: number): PeerPath {
    const relay = this.relays.get(pairKey(node.id, m.id))?.endpoint.get(node.id) ?? '';
    // A pair that cannot go direct (see hopeless) is offered no candidates: retrying them
    // every minute would only take the pair off its relay for nothing. Nor is a relayed pair
    // while the facts that would say so are still coming back after a start.
    const none = (relay !== '' && now - this.started < RESTART_QUIET_MS) || (this.relay?.available() && this.hopeless(node, m));
    return { publicKey: m.publicKey, candidates: none ? [] : candidatesFor(self, this.natFacts(m), now), relay };
  }

  /** `node`'s paths to `members`; `full` (every peer) leaves out the entries the node derives
   * from its view by itself (see defaultPath): without NATs that is all of them. */
  private compute(node: NodeRow, members: readonly NodeRow[], full: boolean): PeerPath[] {
    if (!node.approved) return [];
    const now = this.now();
    const self = this.natFacts(node);
    const out: PeerPath[] = [];
    // For a full update, most entries are defaults: they are recognised without being built.
    const relayed = new Set<string>();
    if (full) for (const r of this.relays.values()) if (r.a === node.id) relayed.add(r.b); else if (r.b === node.id) relayed.add(r.a);
    const mayBeHopeless = !!this.relay?.available() && this.natted(node);
    let candidates: readonly NodeRow[] = members;
    if (full && !mayBeHopeless) {
      // Only the members that can differ from the default for this receiver: O(those), not a
      // pass over the network per node (a restart herd is a full update per node).
      const x = this.fullIndex(node.network, members);
      const pick = new Set<NodeRow>(x.odd);
      for (const m of self.site !== null ? (x.lanBySite.get(self.site) ?? []) : []) pick.add(m);
      for (const id of relayed) {
        const m = x.byId.get(id);
        if (m) pick.add(m);
      }
      candidates = [...pick].sort((a, b) => x.position.get(a.id)! - x.position.get(b.id)!);
    }
    for (const m of candidates) {
      if (!m.approved || m.id === node.id) continue;
      if (full && !mayBeHopeless && !relayed.has(m.id) && this.plain(self, m)) continue;
      const e = this.entry(node, m, self, now);
      if (!full || !isDefaultPath(e, m.endpoint ?? '')) {
        out.push(e);
        this.explicit.add(m.id);
      }
    }
    return out;
  }

  private fullIndex(network: string, members: readonly NodeRow[]): FullIndex {
    const held = this.fullIndexes.get(network);
    if (held && held.members === members && held.epoch === this.factsEpoch) return held;
    const x: FullIndex = { members, epoch: this.factsEpoch, odd: [], lanBySite: new Map(), byId: new Map(), position: new Map() };
    members.forEach((m, i) => {
      x.byId.set(m.id, m);
      x.position.set(m.id, i);
      if (!m.approved) return;
      if (!this.plain(NOWHERE, m)) x.odd.push(m);
      const f = this.facts.get(m.id);
      const site = f?.site ?? this.siteOfEndpoint(m);
      if (f && f.localAddresses.length > 0 && site !== null) {
        let at = x.lanBySite.get(site);
        if (!at) x.lanBySite.set(site, (at = []));
        at.push(m);
      }
    });
    this.fullIndexes.set(network, x);
    return x;
  }

  /** True when a receiver at `self`'s site that has no relay with `m` and is not behind a NAT
   * gets the default entry for `m` (its view endpoint, see defaultPath): what candidatesFor would
   * say, found without building it. A full update at 5,000 nodes asks this 5,000 times per node. */
  private plain(self: NatFacts, m: NodeRow): boolean {
    if (m.endpointStated || !m.endpoint) return false;
    const f = this.facts.get(m.id);
    if (f && f.observed.size > 0) return false;
    const site = f?.site ?? this.siteOfEndpoint(m);
    if (site === null) return false;
    if (f && f.localAddresses.length > 0 && self.site === site) return false;
    return m.endpoint === formatHostPort({ host: site, port: m.listenPort });
  }

  /** What `node` reported about its peers, for `nodes show`. */
  async peersOf(node: NodeRow): Promise<PeerPathView[]> {
    const members = (await this.views.membersOf(node.network)).rows;
    const mine = this.reports.get(node.id);
    return members
      .filter((m) => m.id !== node.id && m.approved)
      .map((m) => {
        const r = mine?.get(m.publicKey);
        const live = r && this.now() - r.at <= REPORT_TTL_MS ? r : undefined;
        return {
          name: m.name,
          path: live?.path || 'unknown',
          endpoint: live?.endpoint || null,
          winner: live?.winner ?? null,
          relay: this.relays.get(pairKey(node.id, m.id))?.endpoint.get(node.id) ?? null,
        };
      });
  }

  /** The path between `node` and its peer `peerKey` for the network status (the dashboard's pair
   * matrix): what the node last reported (a pair still probing is unknown), else relayed when the
   * pair has a relay assigned, else unknown. */
  pathBetween(node: NodeRow, peerKey: string, peerId: string): 'direct' | 'relayed' | 'unknown' {
    const r = this.reports.get(node.id)?.get(peerKey);
    const live = r && this.now() - r.at <= REPORT_TTL_MS ? r : undefined;
    if (live?.path === 'direct' || live?.path === 'relayed') return live.path;
    return !live && this.relays.has(pairKey(node.id, peerId)) ? 'relayed' : 'unknown';
  }

  /** Records that `nodeId` holds paths version `tag` (a join or check-in reply gave or confirmed
   * it), so that its next Watch stream need not be sent them again. */
  holds(nodeId: string, tag: string): void {
    this.held.set(nodeId, tag);
  }

  /** Sends the node all its paths (a new Watch stream), unless its last reply left it holding
   * the current version: after a controller restart every agent checks in, then reopens its
   * stream, and all N paths to N nodes twice over was most of the herd's work. */
  resend(node: NodeRow): void {
    if (this.held.get(node.id) === this.tagOf(node.network)) return;
    this.schedule(node.network, [], [node.id]);
  }

  private schedule(network: string, changed: readonly string[], full: readonly string[] = []): void {
    let p = this.pending.get(network);
    if (!p) {
      this.pending.set(network, (p = { changed: new Set(), full: new Set() }));
      const mine = p;
      // One push of a network at a time: what changes while one is under way (a restart herd:
      // thousands of check-ins) is gathered into the next, instead of a push to every stream per
      // turn of the event loop.
      const next = (this.pushing.get(network) ?? Promise.resolve())
        .then(() => new Promise<void>((resolve) => setImmediate(resolve)))
        .then(() => {
          if (this.pending.get(network) === mine) this.pending.delete(network);
          return this.push(network, mine);
        })
        .catch((err) => this.log.warn({ err, network }, 'pushing paths failed'));
      this.pushing.set(network, next);
      void next.finally(() => {
        if (this.pushing.get(network) === next) this.pushing.delete(network);
      });
    }
    for (const id of changed) p.changed.add(id);
    for (const id of full) p.full.add(id);
  }

  /** One paths version for everything changed in this turn: each connected node gets the
   * entries of the peers that changed (O(1) each, like a peer delta), or all of them when its own
   * facts changed or it just connected. Both ends of a pair get theirs in the same turn, so their
   * probes start together. Nodes with no stream catch up at their next check-in (old tag). */
  private async push(network: string, p: { changed: Set<string>; full: Set<string> }): Promise<void> {
    let members: NodeRow[];
    try {
      members = (await this.views.membersOf(network)).rows;
    } catch {
      return; // the network is gone
    }
    const before = this.versions.get(network) ?? 0;
    // The changed members, found once: each node's partial update is then O(changed peers), not
    // a pass over the whole network per node (O(n²) per change at 5,000 nodes). Left out: members
    // no node needs an entry for (see silent), such as a node that just joined a network without
    // NATs: every peer reaches it at its view endpoint, which the view's own delta brings.
    const changed = p.changed.size ? this.needed(members.filter((m) => p.changed.has(m.id)), members) : [];
    const version = changed.length ? before + 1 : before;
    this.versions.set(network, version);
    let sent = 0;
    // Most receivers get the same entries for the changed peers (they differ only for a peer at
    // the receiver's own site, a relayed or hopeless pair): those share one update object, which
    // the node API encodes once (as the Watch hub's shared deltas).
    const variants: PathUpdate[] = [];
    for (const n of members) {
      if (!this.sink.connected(network, n.id)) continue;
      if (p.full.has(n.id)) {
        this.sink.send(network, n.id, { paths: this.compute(n, members, true), tag: this.tag(version) });
      } else if (changed.length) {
        const paths = this.compute(n, changed, false);
        let u = variants.find((v) => sameEntries(v.paths, paths));
        if (!u) {
          u = { paths, tag: this.tag(version), base: this.tag(before) };
          if (variants.length < 4) variants.push(u);
        }
        this.sink.send(network, n.id, u);
      } else continue;
      // a turn of the event loop every so many streams, as the Watch hub fans out
      if (++sent % PUSH_CHUNK === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  private onChange(c: Change): void {
    if (c.kind === 'node-removed') {
      this.forget(c.nodeId);
    } else if (c.kind === 'network-deleted') {
      for (const [key, r] of this.relays) if (r.network === c.network) this.dropRelay(key);
      this.versions.delete(c.network);
    } else if (c.kind === 'node-upserted') {
      // A new or changed member: everyone gets its entry; it gets all of its own (approval may
      // have changed everything it sees).
      this.schedule(c.network, [c.node.id], [c.node.id]);
    }
  }

  private dropRelay(key: string): void {
    this.relays.delete(key);
    this.relay?.close(key);
  }

  /** `changed` without the members that need no entry anywhere: never named in an update of this
   * run (so no node holds an entry of this run for them: a node holding one of an earlier run gets
   * all its paths anew, its tag being of that run), and the default for every receiver, which no
   * receiver would be if it shared the member's site while the member has LAN addresses, had a
   * relay with it, or were behind a NAT while relays are available (a hopeless pair). */
  private needed(changed: NodeRow[], members: readonly NodeRow[]): NodeRow[] {
    if (changed.every((m) => this.explicit.has(m.id))) return changed;
    const bySite = new Map<string, number>();
    let natted = false;
    for (const n of members) {
      if (!n.approved) continue;
      const site = this.facts.get(n.id)?.site ?? this.siteOfEndpoint(n);
      if (site !== null) bySite.set(site, (bySite.get(site) ?? 0) + 1);
      if (this.natted(n)) natted = true;
    }
    const relayed = new Set<string>();
    for (const r of this.relays.values()) relayed.add(r.a).add(r.b);
    const hopelessPossible = natted && !!this.relay?.available();
    return changed.filter((m) => {
      if (this.explicit.has(m.id) || !m.approved) return this.explicit.has(m.id);
      if (hopelessPossible || relayed.has(m.id)) return true;
      const f = this.facts.get(m.id);
      const site = f?.site ?? this.siteOfEndpoint(m);
      // Its LAN addresses are candidates for a receiver at its own site (itself not counted).
      const lanSeen = !!f && f.localAddresses.length > 0 && site !== null && (bySite.get(site) ?? 0) > 1;
      return lanSeen || !this.plain(NOWHERE, m);
    });
  }

  private forget(id: string): void {
    this.explicit.delete(id);
    this.facts.delete(id);
    this.factsEpoch++;
    this.held.delete(id);
    this.reports.delete(id);
    for (const f of this.facts.values()) f.observed.delete(id);
    for (const [key, r] of this.relays) if (r.a === id || r.b === id) this.dropRelay(key);
  }
}
