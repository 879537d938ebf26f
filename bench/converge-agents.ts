// A worker process of `npm run bench:converge`: hosts a slice of the simulated agents, so that N
// agents are spread over several processes and the bench client is not the limit. Each agent
// uses its connections as the real one does: it joins on a connection of its own that is closed
// once the join has answered (`meshctl join`, a process that exits), then opens the connection
// the agent daemon keeps (src/agent/worker.ts): a Watch stream from the version it holds and, at
// the same time, a check-in with that version and its paths tag. Whatever the controller sends
// on that connection for being behind (a whole view on the Watch, a view in the check-in reply)
// stays in the measurement: the agent records it. Talks to the parent over IPC:
//   parent -> worker: join, expect, checkins, bare, herd, close
//   worker -> parent: ready, joined, expecting, seen, checkins, bare, herd, stats
// Times are absolute (performance.timeOrigin + performance.now()), comparable across processes.
import { generateKeyPairSync } from 'node:crypto';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import { NodeClient, type CheckInRequest } from '../src/agent/client.ts';
import type { WatchEvent } from '../src/core/change.ts';
import type { NodeView, PeerView, SelfView } from '../src/core/view.ts';
import { digestOf, peerTerm, sumTerms, sumWithout } from '../src/core/view-digest.ts';

const abs = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pubKey = () => Buffer.from(generateKeyPairSync('x25519').publicKey.export({ format: 'jwk' }).x!, 'base64url').toString('base64');
const send = (m: unknown) => process.send!(m);

interface Agent {
  idx: number;
  publicKey: string;
  /** The daemon's connection: check-ins and the Watch stream (never the join). */
  client: NodeClient;
  credential: string;
  version: number;
  /** The paths version it holds (sent in check-ins, as the agent does: a node that holds the
   * current one is sent no paths). */
  pathsTag: string;
  cancel?: () => void;
  /** Streams that ended (outside a controller restart) and were reopened with backoff. */
  dropped: number;
  lastEnd: string;
  /** Herd: the moment this agent's check-in after the restart succeeded (0: not yet). */
  backAt: number;
  live: boolean;
  /** Its own part of its view (from its join reply): with the network's peers, what it holds. */
  self: SelfView;
  /** Digest of the view it holds, sent when it reconnects as the agent daemon does ('' once a
   * change has come: the bench does not keep the views' content). */
  digest: string;
  /** Whole views the daemon's connection carried outside a restart herd (Watch snapshots, check-in
   * replies with a view) and the most peers in one: the large writes that make a TLS connection
   * keep large buffers in the controller (see README, "Memory per connected agent"). */
  views: number;
  maxViewPeers: number;
}

function sawView(a: Agent, peers: number): void {
  if (herd) return;
  a.views++;
  a.maxViewPeers = Math.max(a.maxViewPeers, peers);
}

interface Expectation { kind: string; match: string; seen: Float64Array; left: number; done: () => void }

const agents: Agent[] = [];
const pending = new Map<string, Expectation>();
let server = '';
let ca = '';
let herd = false;
/** This process's own event-loop stalls: a stall past the agents' keepalive timeout (10 s) ends
 * their connections from this side, which is not the controller dropping them. */
const loopDelay = monitorEventLoopDelay({ resolution: 20 });
loopDelay.enable();
/** During the herd: check-ins that failed, and the last error. */
let herdFailed = 0;
let herdLastError = '';
let closing = false;

function hit(a: Agent, key: string, t: number, local: number): void {
  const e = pending.get(key);
  if (!e || e.seen[local]! > 0) return;
  e.seen[local] = t;
  if (--e.left === 0) e.done();
}

function onEvent(a: Agent, local: number, ev: WatchEvent): void {
  const t = abs();
  // a piece of a delta sent in pieces moves the version only with the last (as the agent)
  if (ev.version > a.version && !('delta' in ev && ev.delta?.more)) {
    a.version = ev.version;
    a.digest = '';
  }
  if ('delta' in ev && ev.delta) {
    for (const p of ev.delta.upserted ?? []) hit(a, `add:${p.publicKey}`, t, local);
    for (const k of ev.delta.removed ?? []) hit(a, `delete:${k}`, t, local);
    if (ev.delta.network) hit(a, `settings:${ev.delta.network.keepalive}`, t, local);
  } else if ('paths' in ev && ev.paths) {
    // as core applyPaths: a partial update on top of another version leaves no tag
    a.pathsTag = !ev.paths.base || ev.paths.base === a.pathsTag ? ev.paths.tag : '';
  } else if ('snapshot' in ev && ev.snapshot) {
    sawView(a, ev.snapshot.peers.length);
    if (pending.size === 0) return;
    hit(a, `settings:${ev.snapshot.network.keepalive}`, t, local);
    const keys = new Set(ev.snapshot.peers.map((p) => p.publicKey));
    for (const e of pending.values()) {
      if (e.kind === 'add' && keys.has(e.match)) hit(a, `add:${e.match}`, t, local);
      if (e.kind === 'delete' && !keys.has(e.match)) hit(a, `delete:${e.match}`, t, local);
    }
  }
}

/** Before the herd: the digest of the view each agent holds (the agent daemon keeps its view and
 * sends its digest when it reconnects). The bench does not keep 5,000 views per process: the
 * network's peers come from two agents' whole views (each lacks only itself), and each agent's
 * view is those peers but its own entry. */
async function digests(): Promise<void> {
  if (agents.length < 2) return;
  const whole = async (a: Agent): Promise<NodeView> => (await a.client.checkIn({ listenPort: 0, endpoint: '', knownVersion: 0, handshakes: [], pathsTag: a.pathsTag }, 60_000)).view!;
  const [va, vb] = [await whole(agents[0]!), await whole(agents[1]!)];
  if (va.version !== vb.version) return; // a change in between: no digests this time
  const byKey = new Map<string, PeerView>(va.peers.map((p) => [p.publicKey, p]));
  for (const p of vb.peers) if (!byKey.has(p.publicKey)) byKey.set(p.publicKey, p);
  const terms = new Map([...byKey].map(([k, p]) => [k, peerTerm(p)] as const));
  const sum = sumTerms(terms.values());
  for (const a of agents) {
    const own = a.version === va.version ? terms.get(a.publicKey) : undefined;
    a.digest = own !== undefined ? digestOf(a.self, va.network, va.records, sumWithout(sum, own), byKey.size - 1) : '';
  }
}

/** Opens the agent's Watch; after an end, checks in and reopens it with a capped, jittered
 * backoff (as the agent daemon does). */
function watch(a: Agent, local: number, attempt = 0): void {
  a.live = true;
  a.cancel = a.client.watch(a.version, (ev) => {
    attempt = 0;
    onEvent(a, local, ev);
  }, (err) => {
    a.live = false;
    if (closing) return;
    if (!herd) a.dropped++;
    a.lastEnd = err.message;
    void reconnect(a, local, attempt);
  }, a.digest);
}

async function reconnect(a: Agent, local: number, attempt: number): Promise<void> {
  for (;;) {
    const delay = Math.min(5000, 500 * 2 ** attempt) * (0.5 + Math.random() / 2);
    await sleep(delay);
    if (closing) return;
    try {
      await checkIn(a, 10_000);
      if (herd && a.backAt === 0) a.backAt = abs();
      watch(a, local, attempt + 1);
      return;
    } catch (err) {
      if (herd) {
        herdFailed++;
        herdLastError = (err as Error).message;
      }
      attempt++;
    }
  }
}

/** One check-in on the daemon's connection, with the version and paths tag the agent holds. */
async function checkIn(a: Agent, timeoutMs?: number, handshakes: CheckInRequest['handshakes'] = [], watching = false): Promise<void> {
  // as the agent daemon does: a few changes behind, it takes the deltas since its version (unless
  // its Watch stream, opened just now from that version, brings them)
  const r = await a.client.checkIn({ listenPort: 0, endpoint: '', knownVersion: a.version, handshakes, pathsTag: a.pathsTag, acceptsDeltas: a.version > 0, viewDigest: a.digest, ...(watching ? { watching } : {}) }, timeoutMs);
  if (r.view) sawView(a, r.view.peers.length);
  if ((r.view || r.deltas.length || r.inStep) && r.version > a.version) a.version = r.version;
  if (r.view || r.deltas.length) a.digest = '';
  if (r.paths) a.pathsTag = r.paths.tag;
}

/** What the agent daemon does when it starts (src/agent/worker.ts connect()): opens its Watch
 * from the version it holds and checks in at the same time; resolves once the check-in answered. */
async function connect(a: Agent, local: number): Promise<void> {
  watch(a, local);
  for (let tries = 0; ; tries++) {
    try {
      await checkIn(a, 30_000, [], tries === 0);
      return;
    } catch (err) {
      if (tries >= 5) throw err;
      await sleep(500 * (tries + 1));
    }
  }
}

/** Joins this worker's agents, `batch` at a time. With `connect` 'joined', each agent's daemon
 * connects right after its own join, from the version its join reply gave (as a real node's does,
 * while the other joins go on: it may be behind by the joins made meanwhile); with 'later', the
 * daemons connect once every agent has joined (the 'watch' message). */
async function joinAll(m: { from: number; to: number; batch: number; network: string; keyName: string; keySecret: string; server: string; ca: string; connect: 'joined' | 'later' }): Promise<void> {
  server = m.server;
  ca = m.ca;
  for (let start = m.from; start < m.to; start += m.batch) {
    await Promise.all(Array.from({ length: Math.min(m.batch, m.to - start) }, async (_, k) => {
      const idx = start + k;
      // `meshctl join`'s own connection, closed when it is done (the command exits)
      const joiner = new NodeClient(server, ca);
      let r;
      let publicKey = '';
      try {
        for (let tries = 0; ; tries++) {
          try {
            // a retry takes another name and key: a join that timed out here may have been
            // admitted there (the node stays, a member that never connects)
            publicKey = pubKey();
            r = await joiner.join({ network: m.network, keyName: m.keyName, keySecret: m.keySecret, name: tries ? `a${idx}-${tries}` : `a${idx}`, publicKey, listenPort: 51821, endpoint: '' });
            break;
          } catch (err) {
            if (tries >= 5) throw err;
            await sleep(500 * (tries + 1));
          }
        }
      } finally {
        joiner.close();
      }
      const client = new NodeClient(server, ca, r.credential);
      const a: Agent = { idx, publicKey, client, credential: r.credential, version: r.view.version, pathsTag: r.pathsTag ?? '', dropped: 0, lastEnd: '', backAt: 0, live: false, self: r.view.self, digest: '', views: 0, maxViewPeers: 0 };
      agents.push(a);
      if (m.connect === 'joined') await connect(a, agents.length - 1);
    }));
    send({ type: 'progress', joined: agents.length });
  }
}

/** --handshakes: every agent checks in once reporting a fresh handshake with every other member
 * (`keys`), as the daemon's periodic check-in does in a healthy mesh (WireGuard's latest handshake
 * and byte counters per peer, the endpoint it holds, path direct). */
async function reportHandshakes(keys: string[], concurrency: number): Promise<void> {
  const nowS = Math.floor(Date.now() / 1000);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, agents.length) }, async () => {
    while (next < agents.length) {
      const a = agents[next++]!;
      const handshakes = keys.filter((k) => k !== a.publicKey).map((k, i) => ({ publicKey: k, latestHandshake: nowS - (i % 120), rxBytes: 1_000_000 + i, txBytes: 2_000_000 + i, endpoint: '127.0.0.1:51821', path: 'direct' }));
      for (let tries = 0; ; tries++) {
        try {
          await checkIn(a, 60_000, handshakes);
          break;
        } catch (err) {
          if (tries >= 5) throw err;
          await sleep(1000 * (tries + 1));
        }
      }
    }
  }));
}

/** Closed loop: each agent keeps one CheckIn in flight against `target` for `seconds`. */
async function checkins(m: { seconds: number; port?: number; warmMs: number }): Promise<void> {
  // Against the bare server: the connections its streams already hold (opening 5,000 more at
  // once would stall this process past the keepalive deadlines of its other connections).
  const clients = m.port ? agents.map((a, i) => bareNodeClients[i] ?? new NodeClient(`127.0.0.1:${m.port}`, ca, a.credential)) : agents.map((a) => a.client);
  const tStart = abs() + m.warmMs;
  const tEnd = tStart + m.seconds * 1000;
  const lat: number[] = [];
  let errors = 0;
  let firstError = '';
  await Promise.all(clients.map(async (c, i) => {
    while (abs() < tEnd) {
      const s = abs();
      try {
        await c.checkIn({ listenPort: 0, endpoint: '', knownVersion: agents[i]!.version, handshakes: [], pathsTag: agents[i]!.pathsTag });
        const e = abs();
        if (s >= tStart && e <= tEnd) lat.push(e - s);
      } catch (err) {
        errors++;
        firstError ||= (err as Error).message;
        await sleep(50);
      }
    }
  }));
  send({ type: 'checkins', lat, errors, firstError });
}

/** Opens one Watch stream per agent on the bare server (its own TLS connection each) and holds
 * them; a few at a time, as agents would arrive: thousands of TLS handshakes at once held this
 * process's event loop for seconds, past the keepalive deadlines of the agents' connections to
 * the controller (whose streams then ended, counted as dropped). */
const bareClients: { close(): void }[] = [];
const bareNodeClients: NodeClient[] = [];
const OPENING = 20;
async function bare(m: { port: number }): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: OPENING }, async () => {
    for (let i = next++; i < agents.length; i = next++) {
      const c = new NodeClient(`127.0.0.1:${m.port}`, ca, agents[i]!.credential);
      bareNodeClients[i] = c;
      await new Promise<void>((resolve) => {
        let settled = false;
        const cancel = c.watch(0, () => { if (!settled) { settled = true; resolve(); } }, () => { if (!settled) { settled = true; resolve(); } });
        bareClients.push({ close: () => { cancel(); c.close(); } });
      });
    }
  }));
  send({ type: 'bare', open: bareClients.length });
}

process.on('message', (m: { type: string } & Record<string, unknown>) => {
  void (async () => {
    switch (m.type) {
      case 'join':
        await joinAll(m as never);
        send({ type: 'joined', count: agents.length });
        break;
      case 'watch': {
        // --connect later: every agent's daemon connects now, from `version` when given (the
        // network's: a daemon that was up to date), else from the version its join gave
        await Promise.all(agents.map(async (a, local) => {
          if (a.cancel) return; // connected right after its join
          if (typeof m.version === 'number') a.version = Math.max(a.version, m.version);
          await connect(a, local);
        }));
        send({ type: 'watching', views: agents.reduce((x, a) => x + a.views, 0), withView: agents.filter((a) => a.views > 0).length, maxViewPeers: Math.max(0, ...agents.map((a) => a.maxViewPeers)) });
        break;
      }
      case 'expect': {
        const key = `${m.kind}:${m.match}`;
        const e: Expectation = { kind: m.kind as string, match: m.match as string, seen: new Float64Array(agents.length), left: agents.length, done: () => {} };
        const finished = new Promise<void>((r) => (e.done = r));
        pending.set(key, e);
        send({ type: 'expecting', key });
        const timer = setTimeout(() => e.done(), m.timeoutMs as number);
        if (agents.length > 0) await finished;
        clearTimeout(timer);
        pending.delete(key);
        send({ type: 'seen', key, times: [...e.seen].filter((x) => x > 0), missing: e.left });
        break;
      }
      case 'checkins':
        await checkins(m as never);
        break;
      case 'report':
        await reportHandshakes(m.keys as string[], m.concurrency as number);
        send({ type: 'reported' });
        break;
      case 'bare':
        await bare(m as never);
        break;
      case 'bare-close':
        for (const c of bareClients.splice(0)) c.close();
        bareNodeClients.length = 0;
        send({ type: 'bare-closed' });
        break;
      case 'herd':
        await digests();
        herd = true;
        herdFailed = 0;
        herdLastError = '';
        for (const a of agents) a.backAt = 0;
        send({ type: 'herd-armed' });
        break;
      case 'herd-status': {
        const back = agents.filter((a) => a.backAt > 0);
        send({ type: 'herd-status', back: back.length, live: agents.filter((a) => a.live).length, lastBack: Math.max(0, ...back.map((a) => a.backAt)), total: agents.length, failed: herdFailed, lastError: herdLastError });
        break;
      }
      case 'herd-done':
        herd = false;
        send({ type: 'herd-done' });
        break;
      case 'stats':
        send({ type: 'stats', dropped: agents.reduce((x, a) => x + a.dropped, 0), lastEnd: agents.find((a) => a.lastEnd)?.lastEnd ?? '', stallMs: loopDelay.max / 1e6, views: agents.reduce((x, a) => x + a.views, 0), withView: agents.filter((a) => a.views > 0).length, maxViewPeers: Math.max(0, ...agents.map((a) => a.maxViewPeers)) });
        loopDelay.reset();
        break;
      case 'close':
        closing = true;
        for (const a of agents) { a.cancel?.(); a.client.close(); }
        for (const c of bareClients) c.close();
        process.exit(0);
    }
  })().catch((err: unknown) => {
    send({ type: 'error', message: (err as Error).stack ?? String(err) });
  });
});
void grpc; // the agents' gRPC client library, loaded with NodeClient
send({ type: 'ready' });
