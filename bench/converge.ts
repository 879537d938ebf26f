// Convergence benchmark (issue 4): how long an admin change takes to reach every agent, what the
// controller costs in memory, and how many check-ins it answers per second next to a bare grpc-js
// server. Run: npm run bench:converge [-- --sizes 100,1000 --reps 5 --checkin-seconds 4
// --settings-reps 1 --batch 50 --profile-controller DIR --keep]
//
// The controller is the real `meshctl server` (bin/run.js) in a child process with real gRPC and
// TLS on loopback. The N agents are simulated in this process (one thread): each is a NodeClient
// (its own TLS connection) that joined with a locally made X25519 public key and holds a Watch
// stream, reopened with backoff if it ends. "Applied" means the agent's Watch stream delivered the
// event that names the change (the peer's key in `upserted` for an add, in `removed` for a
// delete; the new keepalive in a snapshot for a settings change); the time is taken on receipt.
// Applying it to WireGuard is not simulated. All agents share this process's one core, so the
// tail includes client-side queueing that real agents on separate hosts would not have; the
// controller's own CPU per change is reported beside it.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir, cpus, totalmem, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { generateKeyPairSync } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import { NodeClient } from '../src/agent/client.ts';
import { fetchPinnedCa } from '../src/net/pinned-ca.ts';
import { decodeJoinToken } from '../src/core/join-token.ts';
import { applyDelta, type WatchEvent } from '../src/core/change.ts';
import type { NodeView, PeerView } from '../src/core/view.ts';
import { nodeService } from '../src/rpc/proto.ts';
import { freePort } from '../test/helpers/server-process.ts';
import { storeBackend } from './store-backend.ts';
import { adminFetchFor } from '../test/helpers/admin-fetch.ts';

const BIN = fileURLToPath(new URL('../bin/run.js', import.meta.url));
const SELF = fileURLToPath(import.meta.url);

const { values: opt } = parseArgs({
  options: {
    sizes: { type: 'string', default: '100,1000' },
    reps: { type: 'string', default: '5' },
    'checkin-seconds': { type: 'string', default: '4' },
    'settings-reps': { type: 'string', default: '1' },
    batch: { type: 'string', default: '50' },
    'profile-controller': { type: 'string' }, // directory for the controller's --cpu-prof output
    store: { type: 'string', default: 'sqlite' }, // sqlite: one controller; postgres: two on one database
    keep: { type: 'boolean', default: false },
    'echo-server': { type: 'string' }, // internal: run the bare grpc-js server on this data dir's TLS files
  },
});

// ---------------------------------------------------------------------------------------------
// The bare grpc-js server the check-in rate is compared with: the same proto method (CheckIn),
// the same TLS certificate chain and server options as the controller, a handler that answers a
// constant. Runs in its own child process, as the controller does.

async function runEchoServer(dataDir: string): Promise<void> {
  const dir = join(dataDir, 'tls');
  const [ca, cert, key] = await Promise.all(['ca.crt', 'server.crt', 'server.key'].map((f) => readFile(join(dir, f), 'utf8')));
  const server = new grpc.Server({ 'grpc.keepalive_time_ms': 30_000, 'grpc.keepalive_timeout_ms': 10_000, 'grpc.keepalive_permit_without_calls': 1, 'grpc.max_receive_message_length': 1 << 20 });
  server.addService(nodeService().service, {
    CheckIn: (call: grpc.ServerUnaryCall<{ knownVersion: number }, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      cb(null, { version: call.request.knownVersion, changed: false });
    },
  });
  const creds = grpc.ServerCredentials.createSsl(null, [{ cert_chain: Buffer.from(`${cert!.trim()}\n${ca!.trim()}\n`), private_key: Buffer.from(key!) }], false);
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', creds, (err, p) => (err ? reject(err) : resolve(p))));
  process.stdout.write(`PORT ${port}\n`);
  process.once('SIGTERM', () => server.forceShutdown());
}


// ---------------------------------------------------------------------------------------------
// Small tools

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.now();
const pubKey = () => Buffer.from(generateKeyPairSync('x25519').publicKey.export({ format: 'jwk' }).x!, 'base64url').toString('base64');

/** Nearest-rank percentile of an ascending array. */
function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

function procStatus(pid: number): { rssMb: number; hwmMb: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN);
  return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
}

/** CPU time (user + system, ms) a process has used, from /proc/<pid>/stat (clock ticks of 10 ms). */
function procCpuMs(pid: number | number[]): number {
  if (Array.isArray(pid)) return pid.reduce((sum, p) => sum + procCpuMs(p), 0);
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10; // fields 14 and 15 (utime, stime)
}
const selfCpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

const children = new Set<ChildProcess>();
const tempRoots = new Set<string>();
process.on('exit', () => {
  for (const c of children) if (c.pid !== undefined && c.exitCode === null && c.signalCode === null) try { process.kill(c.pid, 'SIGKILL'); } catch { /* gone */ }
  if (!opt.keep) for (const d of tempRoots) rmSync(d, { recursive: true, force: true });
});
process.once('SIGINT', () => process.exit(130));
process.once('SIGTERM', () => process.exit(143));

async function stopChild(c: ChildProcess, timeoutMs = 15_000): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return;
  const exited = new Promise((r) => c.once('exit', r));
  process.kill(c.pid!, 'SIGTERM');
  const t = setTimeout(() => { try { process.kill(c.pid!, 'SIGKILL'); } catch { /* gone */ } }, timeoutMs);
  await exited;
  clearTimeout(t);
  children.delete(c);
}

// ---------------------------------------------------------------------------------------------
// The controller in a child process

interface Controller {
  proc: ChildProcess;
  pid: number;
  grpcPort: number;
  apiUrl: string;
  token: string;
  dataDir: string;
  logPath: string;
  admin<T>(method: string, path: string, body?: unknown): Promise<T>;
}

async function startController(root: string, profileDir: string | undefined, extra: string[] = [], name = 'data'): Promise<Controller> {
  const dataDir = join(root, name);
  const logPath = join(root, `${name}.log`);
  const api = await freePort();
  const grpcPort = await freePort();
  // The log goes to a file: a pipe that this busy process drains late would block the controller's sync writes.
  // (So not test/helpers/server-process.ts's startServer: it pipes stderr, and takes no --cpu-prof.)
  const logFd = openSync(logPath, 'w');
  const profile = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const proc = spawn(process.execPath, [...profile, BIN, 'server', '--data-dir', dataDir, '--api-addr', `127.0.0.1:${api}`, '--grpc-addr', `127.0.0.1:${grpcPort}`, '--public-host', '127.0.0.1', '--no-relay', ...extra], {
    stdio: ['ignore', 'ignore', logFd],
  });
  closeSync(logFd);
  children.add(proc);
  const apiUrl = `https://127.0.0.1:${api}`;
  const adminFetch = adminFetchFor(dataDir);
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`meshctl server exited with ${proc.exitCode}:\n${readFileSync(logPath, 'utf8').slice(-2000)}`);
    if (Date.now() > deadline) throw new Error(`meshctl server did not answer within 30 s:\n${readFileSync(logPath, 'utf8').slice(-2000)}`);
    try {
      await adminFetch(`${apiUrl}/api/v1/networks`);
      if (existsSync(join(dataDir, 'admin.token'))) break;
    } catch { /* not yet */ }
    await sleep(50);
  }
  const token = (await readFile(join(dataDir, 'admin.token'), 'utf8')).trim();
  const admin = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await adminFetch(`${apiUrl}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };
  return { proc, pid: proc.pid!, grpcPort, apiUrl, token, dataDir, logPath, admin };
}

// ---------------------------------------------------------------------------------------------
// Simulated agents and what they are expected to receive

interface Agent {
  idx: number;
  name: string;
  client: NodeClient;
  credential: string;
  cancel?: () => void;
  version: number;
  events: number;
  snapshots: number;
  peersAtSnapshot: number;
  /** Watch streams that ended and were reopened (as the agent daemon does, with backoff). */
  reconnects: number;
  lastEnd: string;
}

/** One change every agent must see: the peer's key in `upserted` (add) or in `removed` (delete), or
 * a view whose network keepalive is the new value (settings). */
interface Expectation {
  kind: ChangeKind;
  match: string;
  t0: number;
  seen: Uint8Array;
  count: number;
  latencies: number[];
  done: () => void;
}

type ChangeKind = 'add' | 'delete' | 'settings';

interface ChangeSample {
  latencies: number[];
  missing: number;
  replyMs: number;
  /** CPU the controller used from the change until every agent had it (10 ms ticks). */
  ctlCpuMs: number;
}

class Fleet {
  readonly agents: Agent[] = [];
  private readonly pending = new Map<string, Expectation>();
  private readonly ctlPid: number | number[];
  snapshotsDuringChanges = 0;

  constructor(ctlPid: number | number[]) {
    this.ctlPid = ctlPid;
  }

  private closing = false;

  /** Opens the agent's Watch stream from the version it has; reopens it after an end, with a capped, jittered backoff. */
  watch(a: Agent, attempt = 0): void {
    a.cancel = a.client.watch(a.version, (ev) => {
      attempt = 0;
      this.onEvent(a, ev);
    }, (err) => {
      if (this.closing) return;
      a.reconnects++;
      a.lastEnd = err.message;
      const delay = Math.min(5000, 500 * 2 ** attempt) * (0.5 + Math.random() / 2);
      setTimeout(() => this.watch(a, attempt + 1), delay);
    });
  }

  get reconnects(): number {
    return this.agents.reduce((x, a) => x + a.reconnects, 0);
  }

  onEvent(a: Agent, ev: WatchEvent): void {
    const t = now();
    a.events++;
    if (ev.version > a.version) a.version = ev.version;
    if ('delta' in ev && ev.delta) {
      for (const p of ev.delta.upserted) this.hit(a, `add:${p.publicKey}`, t);
      for (const k of ev.delta.removed) this.hit(a, `delete:${k}`, t);
      if (ev.delta.network) this.hit(a, `settings:${ev.delta.network.keepalive}`, t);
    } else if ('snapshot' in ev && ev.snapshot) {
      a.snapshots++;
      a.peersAtSnapshot = ev.snapshot.peers.length;
      if (this.pending.size === 0) return;
      this.hit(a, `settings:${ev.snapshot.network.keepalive}`, t);
      const peerChanges = [...this.pending.values()].filter((e) => e.kind !== 'settings');
      if (peerChanges.length === 0) return;
      this.snapshotsDuringChanges++;
      const keys = new Set(ev.snapshot.peers.map((p) => p.publicKey));
      for (const e of peerChanges) if (e.kind === 'add' ? keys.has(e.match) : !keys.has(e.match)) this.hit(a, `${e.kind}:${e.match}`, t);
    }
  }

  private hit(a: Agent, key: string, t: number): void {
    const e = this.pending.get(key);
    if (!e || e.seen[a.idx]) return;
    e.seen[a.idx] = 1;
    e.latencies.push(t - e.t0);
    if (++e.count === this.agents.length) e.done();
  }

  /** Registers what every agent must see; `trigger` makes the change and returns once the admin has its reply. */
  async expect(kind: ChangeKind, match: string, trigger: () => Promise<void>, timeoutMs: number): Promise<ChangeSample> {
    let done!: () => void;
    const finished = new Promise<void>((r) => (done = r));
    const key = `${kind}:${match}`;
    const e: Expectation = { kind, match, t0: 0, seen: new Uint8Array(this.agents.length), count: 0, latencies: [], done };
    this.pending.set(key, e);
    const cpu0 = procCpuMs(this.ctlPid);
    e.t0 = now();
    await trigger();
    const replyMs = now() - e.t0;
    const timer = setTimeout(done, timeoutMs);
    await finished;
    clearTimeout(timer);
    const ctlCpuMs = procCpuMs(this.ctlPid) - cpu0;
    this.pending.delete(key);
    return { latencies: e.latencies, missing: this.agents.length - e.count, replyMs, ctlCpuMs };
  }

  close(): void {
    this.closing = true;
    for (const a of this.agents) {
      if (!a) continue; // a join that failed left a hole
      a.cancel?.();
      a.client.close();
    }
  }
}

// ---------------------------------------------------------------------------------------------
// One size

interface ChangeRow {
  label: string;
  samples: ChangeSample[];
}

interface SizeResult {
  n: number;
  joinS: number;
  joinCtlCpuPct: number;
  joinBenchCpuPct: number;
  readyS: number;
  rssIdleMb: number;
  rssEmptyMb: number;
  hwmPeerMb: number;
  hwmMb: number;
  changes: ChangeRow[];
  snapshotsDuringChanges: number;
  streamsEnded: number;
  endReason: string;
  checkin: LoadResult;
  echo: LoadResult;
  applyMs: number;
}

interface LoadResult {
  rate: number;
  calls: number;
  errors: number;
  p50: number;
  p99: number;
  serverCpuPct: number;
  benchCpuPct: number;
  /** Server CPU time per answered call (µs): less sensitive to other load on the machine than calls/s. */
  serverCpuUsPerCall: number;
  notes: string;
}

interface Round {
  seconds: number;
  calls: number;
  errors: number;
  changed: number;
  lat: number[];
  serverCpuMs: number;
  selfCpuMs: number;
  firstError: string;
}

/** Closed loop: each client keeps one CheckIn in flight. Counts calls completed in the measured window after a warm-up. */
async function loadRound(clients: NodeClient[], knownVersion: number, serverPid: number | number[], seconds: number): Promise<Round> {
  const warmMs = 500;
  const tStart = now() + warmMs;
  const tEnd = tStart + seconds * 1000;
  const r: Round = { seconds, calls: 0, errors: 0, changed: 0, lat: [], serverCpuMs: 0, selfCpuMs: 0, firstError: '' };
  let cpu0 = { server: 0, self: 0 };
  let cpu1: typeof cpu0 | null = null;
  const sample = () => ({ server: procCpuMs(serverPid), self: selfCpuMs() });
  const timers = [setTimeout(() => (cpu0 = sample()), warmMs), setTimeout(() => (cpu1 = sample()), warmMs + seconds * 1000)];
  await Promise.all(
    clients.map(async (c) => {
      while (now() < tEnd) {
        const s = now();
        try {
          const res = await c.checkIn({ listenPort: 0, endpoint: '', knownVersion, handshakes: [] });
          if (res.changed) r.changed++;
          const e = now();
          if (s >= tStart && e <= tEnd) {
            r.calls++;
            r.lat.push(e - s);
          }
        } catch (err) {
          r.errors++;
          r.firstError ||= (err as Error).message;
          await sleep(50);
        }
      }
    }),
  );
  for (const t of timers) clearTimeout(t);
  const end = cpu1 ?? sample();
  r.serverCpuMs = end.server - cpu0.server;
  r.selfCpuMs = end.self - cpu0.self;
  return r;
}

function combine(rounds: Round[]): LoadResult {
  const seconds = rounds.reduce((a, r) => a + r.seconds, 0);
  const calls = rounds.reduce((a, r) => a + r.calls, 0);
  const serverCpuMs = rounds.reduce((a, r) => a + r.serverCpuMs, 0);
  const selfCpuMs = rounds.reduce((a, r) => a + r.selfCpuMs, 0);
  const changed = rounds.reduce((a, r) => a + r.changed, 0);
  const lat = rounds.flatMap((r) => r.lat).sort((a, b) => a - b);
  const firstError = rounds.find((r) => r.firstError)?.firstError ?? '';
  return {
    rate: calls / seconds,
    calls,
    errors: rounds.reduce((a, r) => a + r.errors, 0),
    p50: pct(lat, 50),
    p99: pct(lat, 99),
    serverCpuPct: (serverCpuMs / (seconds * 1000)) * 100,
    benchCpuPct: (selfCpuMs / (seconds * 1000)) * 100,
    serverCpuUsPerCall: (serverCpuMs * 1000) / Math.max(1, calls),
    notes: [changed ? `${changed} replies said "changed"` : '', firstError ? `first error: ${firstError}` : ''].filter(Boolean).join('; '),
  };
}

async function startEcho(dataDir: string): Promise<{ proc: ChildProcess; port: number }> {
  const proc = spawn(process.execPath, [SELF, '--echo-server', dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(proc);
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /PORT (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    proc.once('exit', (code) => reject(new Error(`echo server exited with ${code}`)));
  });
  return { proc, port };
}

function log(msg: string): void {
  process.stderr.write(`[bench] ${msg}\n`);
}

async function runSize(n: number, reps: number, settingsReps: number, checkinSeconds: number, batch: number, sizeIdx: number): Promise<SizeResult> {
  const root = await mkdtemp(join(tmpdir(), `meshctl-bench-${n}-`));
  tempRoots.add(root);
  const profileDir = opt['profile-controller'] ? join(opt['profile-controller'], `n${n}`) : undefined;
  const backend = await storeBackend(opt.store, root);
  const ctls: Controller[] = [];
  let fleet: Fleet | undefined;
  try {
    ctls.push(await startController(root, profileDir, backend.args));
    // the first controller has made the shared CA by now; the second signs its certificate with it
    for (let i = 1; i < backend.controllers; i++) ctls.push(await startController(root, undefined, backend.args, `data-${i}`));
    const ctl = ctls[0]!;
    const pids = ctls.map((c) => c.pid);
    fleet = new Fleet(pids);
    const fl = fleet;
    /** The node API agent `idx` talks to: the controllers in turn. */
    const grpcOf = (idx: number) => `127.0.0.1:${ctls[idx % ctls.length]!.grpcPort}`;
    const net = `bench${n}`;
    await ctl.admin('POST', '/networks', { name: net, cidr: `10.${100 + sizeIdx}.0.0/16`, keepalive: 20 });
    const { token } = await ctl.admin<{ token: string }>('POST', `/networks/${net}/keys`, { name: 'bench', uses: 'unlimited' });
    const t = decodeJoinToken(token);
    const ca = await fetchPinnedCa(t.server, t.caPin);
    const rssEmptyMb = procStatus(ctl.pid).rssMb;
    const joinOne = (client: NodeClient, name: string, publicKey: string) =>
      client.join({ network: net, keyName: t.keyName, keySecret: t.secret, name, publicKey, listenPort: 51821, endpoint: '' });

    // Join in concurrent batches; each agent opens its Watch right after its join, with the
    // version its join reply carried (a node that is behind by then gets a snapshot), so every
    // join is also fanned out to the streams already open: the bench process decodes ~N²/2 events.
    log(`N=${n}: joining ${n} agents, ${batch} at a time`);
    const tj = now();
    const cpuJ = { ctl: procCpuMs(pids), self: selfCpuMs() };
    for (let start = 0; start < n; start += batch) {
      await Promise.all(
        Array.from({ length: Math.min(batch, n - start) }, async (_, k) => {
          const idx = start + k;
          const name = `a${idx}`;
          const client = new NodeClient(grpcOf(idx), ca);
          const r = await joinOne(client, name, pubKey());
          const a: Agent = { idx, name, client, credential: r.credential, version: r.view.version, events: 0, snapshots: 0, peersAtSnapshot: 0, reconnects: 0, lastEnd: '' };
          fl.agents[idx] = a;
          fl.watch(a);
        }),
      );
    }
    const joinMs = now() - tj;
    const joinCtlCpuPct = ((procCpuMs(pids) - cpuJ.ctl) / joinMs) * 100;
    const joinBenchCpuPct = ((selfCpuMs() - cpuJ.self) / joinMs) * 100;
    log(`N=${n}: joined in ${(joinMs / 1000).toFixed(1)} s (controller CPU ${joinCtlCpuPct.toFixed(0)} %, bench CPU ${joinBenchCpuPct.toFixed(0)} %); waiting for every Watch stream to be live`);

    // Ready: every agent has seen a probe change. Streams still being set up miss a probe, so
    // probe until all have seen one (the probes also warm up the path).
    const tr = now();
    for (let i = 0; ; i++) {
      const probe = new NodeClient(t.server, ca);
      const key = pubKey();
      const added = await fl.expect('add', key, async () => { await joinOne(probe, `probe${i}`, key); }, 15_000);
      probe.close();
      const removed = await fl.expect('delete', key, async () => { await ctl.admin('DELETE', `/networks/${net}/nodes/probe${i}`); }, 15_000);
      if (added.missing === 0 && removed.missing === 0) break;
      if (i >= 4) throw new Error(`after ${i + 1} probes, ${removed.missing} of ${n} agents still do not receive changes`);
      log(`N=${n}: probe ${i}: ${added.missing} missed the add, ${removed.missing} the delete; probing again`);
    }
    const readyS = (now() - tr) / 1000;
    await sleep(500);
    const rssIdleMb = procStatus(ctl.pid).rssMb;
    log(`N=${n}: all ${n} streams live (${readyS.toFixed(1)} s); controller RSS ${rssIdleMb.toFixed(0)} MB`);

    // The measured changes: a new node joins, then an admin deletes it, `reps` times.
    const added: ChangeRow = { label: 'node added (join)', samples: [] };
    const deleted: ChangeRow = { label: 'node deleted (REST)', samples: [] };
    fl.snapshotsDuringChanges = 0;
    for (let r = 0; r < reps; r++) {
      const joiner = new NodeClient(t.server, ca);
      // Connect first, so that t0 is the moment the Join request leaves, not TLS set-up.
      await new Promise<void>((resolve, reject) => (joiner as unknown as { raw: grpc.Client }).raw.waitForReady(Date.now() + 10_000, (e) => (e ? reject(e) : resolve())));
      const key = pubKey();
      const name = `x${r}`;
      const a = await fl.expect('add', key, async () => { await joinOne(joiner, name, key); }, 30_000);
      joiner.close();
      added.samples.push(a);
      await sleep(300);
      const d = await fl.expect('delete', key, async () => { await ctl.admin('DELETE', `/networks/${net}/nodes/${name}`); }, 30_000);
      deleted.samples.push(d);
      log(`N=${n}: rep ${r + 1}/${reps}: add max ${Math.max(...a.latencies).toFixed(1)} ms (controller CPU ${a.ctlCpuMs} ms), delete max ${Math.max(...d.latencies).toFixed(1)} ms (controller CPU ${d.ctlCpuMs} ms)`);
      await sleep(300);
    }
    const changes = [added, deleted];
    const snapshotsDuringChanges = fl.snapshotsDuringChanges;

    // Check-ins with nothing changed, every agent at once, against the controller and against the
    // bare server in alternating rounds (so that other load on the machine hits both alike).
    const version = Math.max(...fl.agents.map((a) => a.version));
    log(`N=${n}: check-ins, ${n} clients with one call in flight each: 2 × ${checkinSeconds / 2} s against the controller, alternating with the bare grpc-js server`);
    const echo = await startEcho(ctl.dataDir);
    const echoClients = fl.agents.map((a) => new NodeClient(`127.0.0.1:${echo.port}`, ca, a.credential));
    const ctlRounds: Round[] = [];
    const echoRounds: Round[] = [];
    for (let k = 0; k < 2; k++) {
      ctlRounds.push(await loadRound(fl.agents.map((a) => a.client), version, pids, checkinSeconds / 2)); // agents check in with both controllers
      echoRounds.push(await loadRound(echoClients, version, echo.proc.pid!, checkinSeconds / 2));
    }
    const checkin = combine(ctlRounds);
    const echoRes = combine(echoRounds);
    for (const c of echoClients) c.close();
    await stopChild(echo.proc);

    const hwmPeerMb = procStatus(ctl.pid).hwmMb;

    // Last, a settings change (keepalive): every stream gets a full snapshot, the heaviest change
    // there is (measured after the check-ins, so that its aftermath does not colour them).
    if (settingsReps > 0) {
      const settings: ChangeRow = { label: 'keepalive changed (REST)', samples: [] };
      for (let r = 0; r < settingsReps; r++) {
        const keepalive = 21 + r;
        const c = await fl.expect('settings', String(keepalive), async () => { await ctl.admin('PATCH', `/networks/${net}`, { keepalive }); }, 60_000);
        settings.samples.push(c);
        log(`N=${n}: settings ${r + 1}/${settingsReps}: max ${Math.max(...c.latencies).toFixed(1)} ms (controller CPU ${c.ctlCpuMs} ms)`);
        await sleep(300);
      }
      changes.push(settings);
    }
    const hwmMb = procStatus(ctl.pid).hwmMb;
    const streamsEnded = fl.reconnects;

    // What a real agent then does with a delta at this size, before WireGuard: core applyDelta on
    // its cached view (not part of the latencies above).
    const keys = Array.from({ length: n + 40 }, pubKey);
    const peer = (i: number): PeerView => ({ id: `p${i}`, name: `a${i}`, publicKey: keys[i]!, allowedIps: [`10.0.${i >> 8}.${i & 255}/32`], endpoint: '127.0.0.1:51821', keepalive: 20, address: `10.0.${i >> 8}.${i & 255}` });
    let v: NodeView = {
      self: { id: 'me', name: 'me', address: '10.0.0.1', prefixLength: 16, listenPort: 51821, endpoint: '', approved: true },
      network: { name: net, cidr: '10.0.0.0/16', keepalive: 20, listenPort: 51821 },
      peers: Array.from({ length: n }, (_, i) => peer(i)).sort((x, y) => x.name.localeCompare(y.name)),
      version: 1,
    };
    for (let i = 0; i < 20; i++) v = applyDelta(v, i + 2, { upserted: [peer(n + i)], removed: [keys[i]!] }); // warm-up
    const ta = now();
    for (let i = 20; i < 40; i++) v = applyDelta(v, i + 2, { upserted: [peer(n + i)], removed: [keys[i]!] });
    const applyMs = (now() - ta) / 20;

    return { n, joinS: joinMs / 1000, joinCtlCpuPct, joinBenchCpuPct, readyS, rssIdleMb, rssEmptyMb, hwmPeerMb, hwmMb, changes, snapshotsDuringChanges, streamsEnded, endReason: fl.agents.find((x) => x.lastEnd)?.lastEnd ?? '', checkin, echo: echoRes, applyMs };
  } finally {
    fleet?.close();
    for (const c of ctls) await stopChild(c.proc);
    await backend.close();
    if (!opt.keep) {
      await rm(root, { recursive: true, force: true });
      tempRoots.delete(root);
    }
    else log(`kept ${root}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Report

const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '-');
const f0 = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : '-');
const med = (xs: number[]) => pct([...xs].sort((a, b) => a - b), 50);

function table(rows: string[][]): string {
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ')).join('\n');
}

function mdTable(rows: string[][]): string {
  return [rows[0]!, rows[0]!.map((_, i) => (i === 0 ? '---' : '---:')), ...rows.slice(1)].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

function report(results: SizeResult[], reps: number, seconds: number, wallS: number, load: string): void {
  const conv = [['N', 'change', 'samples', 'p50 ms', 'p99 ms', 'max ms', 'admin reply p50 ms', 'ctl CPU ms/change', 'missed']];
  for (const r of results) {
    for (const c of r.changes) {
      const lat = c.samples.flatMap((x) => x.latencies).sort((x, y) => x - y);
      const cpu = c.samples.reduce((x, y) => x + y.ctlCpuMs, 0) / c.samples.length;
      const missed = c.samples.reduce((x, y) => x + y.missing, 0);
      conv.push([String(r.n), c.label, String(lat.length), f1(pct(lat, 50)), f1(pct(lat, 99)), f1(lat.at(-1)!), f1(med(c.samples.map((x) => x.replyMs))), f0(cpu), String(missed)]);
    }
  }
  const mem = [['N', 'ctl RSS, no nodes MB', 'ctl RSS, N streams idle MB', 'ctl peak RSS, joins + peer changes + check-ins MB', 'ctl peak RSS, + settings change MB', 'join N (batches) s', 'joins/s', 'ctl CPU % while joining', 'bench CPU % while joining']];
  for (const r of results) mem.push([String(r.n), f0(r.rssEmptyMb), f0(r.rssIdleMb), f0(r.hwmPeerMb), f0(r.hwmMb), f1(r.joinS), f0(r.n / r.joinS), f0(r.joinCtlCpuPct), f0(r.joinBenchCpuPct)]);
  const ci = [['N', 'server', 'calls/s', 'p50 ms', 'p99 ms', 'server CPU %', 'server CPU µs/call', 'bench CPU %', 'errors']];
  for (const r of results) {
    ci.push([String(r.n), 'meshctl CheckIn', f0(r.checkin.rate), f1(r.checkin.p50), f1(r.checkin.p99), f0(r.checkin.serverCpuPct), f0(r.checkin.serverCpuUsPerCall), f0(r.checkin.benchCpuPct), String(r.checkin.errors)]);
    ci.push([String(r.n), 'bare grpc-js', f0(r.echo.rate), f1(r.echo.p50), f1(r.echo.p99), f0(r.echo.serverCpuPct), f0(r.echo.serverCpuUsPerCall), f0(r.echo.benchCpuPct), String(r.echo.errors)]);
    ci.push([String(r.n), 'meshctl / bare', (r.checkin.rate / r.echo.rate).toFixed(2), '', '', '', (r.checkin.serverCpuUsPerCall / r.echo.serverCpuUsPerCall).toFixed(2), '', '']);
  }
  const notes = results.flatMap((r) => [
    r.checkin.notes && `N=${r.n} check-ins: ${r.checkin.notes}`,
    r.echo.notes && `N=${r.n} bare server: ${r.echo.notes}`,
    r.snapshotsDuringChanges ? `N=${r.n}: ${r.snapshotsDuringChanges} snapshots arrived during measured peer changes (expected 0)` : '',
    r.streamsEnded ? `N=${r.n}: ${r.streamsEnded} Watch streams ended during the run and were reopened by their agents (${r.endReason})` : '',
  ]).filter(Boolean);
  const apply = results.map((r) => `${r.n} peers: ${r.applyMs.toFixed(2)} ms`).join(', ');
  const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
  const how = [
    opt.store === 'postgres'
      ? 'Controllers: two `meshctl server` child processes on one throwaway PostgreSQL cluster (fsync on), gRPC + TLS on loopback; agents alternate between them, admin changes go to the first (so half the agents get each change by NOTIFY); CPU is both controllers\' (not PostgreSQL\'s); RSS is the first\'s, from /proc/<pid>/status.'
      : 'Controller: `meshctl server` in a child process (sql.js store, durable group commit), gRPC + TLS on loopback; RSS from /proc/<pid>/status.',
    'Agents: N NodeClients in the bench process (one thread, one TLS connection each), each joined with its own X25519 public key and holding a Watch stream.',
    '"Applied" = the agent received the Watch event naming the change (time on receipt, from the moment the Join / REST request was sent); applying it to WireGuard is not simulated.',
    `Peer changes repeated ${reps} times; percentiles over all agent receipts. All N agents share one core of this 2-core machine, so the spread (p50 to max) is mostly the bench decoding N TLS/HTTP2 frames in turn; "ctl CPU ms/change" is the controller's own cost (from /proc, 10 ms ticks).`,
    'Joining: batches run concurrently; each new agent opens its Watch at once, so every join is also fanned out to the streams already open (about N²/2 events that this one process must decode).',
    `Check-ins: every agent keeps one CheckIn (nothing changed) in flight; 2 rounds of ${seconds / 2} s (0.5 s warm-up each) alternate with the same load on a bare grpc-js server (same proto method, TLS chain and server options, answering a constant; a child process too). Where the bench CPU is near 100 % the client is the limit, and server CPU µs/call is the fairer comparison.`,
    `Client-side delta apply (core applyDelta on a cached view, per agent; not included above): ${apply}.`,
  ];
  const out: string[] = [];
  out.push('', `meshctl convergence benchmark — ${machine}; whole run ${wallS.toFixed(0)} s; load average (1 min) ${load}`, '');
  out.push('Change propagation (admin change -> every agent has it)', table(conv), '');
  out.push('Controller', table(mem), '');
  out.push('Check-ins (unary, nothing changed)', table(ci), '');
  for (const h of how) out.push(`* ${h}`);
  for (const n of notes) out.push(`! ${n}`);
  out.push(...verdict(results), '');
  out.push('', `Reproduce: npm run bench:converge${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`, '');
  out.push('----- 8< ----- README snippet (markdown) -----', '');
  out.push('### Benchmark: change propagation', '');
  out.push(`Measured with \`npm run bench:converge\` on ${machine} (load average ${load}).`, '');
  out.push(mdTable(conv), '');
  out.push(mdTable(mem), '');
  out.push(mdTable(ci), '');
  for (const h of how) out.push(`- ${h}`);
  for (const n of notes) out.push(`- ${n}`);
  out.push('', '----- >8 -----', '');
  process.stdout.write(out.join('\n'));
}

/** The goal (issue 4, issue 13 on PostgreSQL): every change reaches every agent with p99 under
 * 1 s, and none is missed. One line per size, and PASS or FAIL overall. */
export const GOAL_P99_MS = 1000;
function verdict(results: SizeResult[]): string[] {
  const lines = results.map((r) => {
    const worst = r.changes.map((c) => ({ label: c.label, p99: pct(c.samples.flatMap((x) => x.latencies).sort((x, y) => x - y), 99), missed: c.samples.reduce((x, y) => x + y.missing, 0) }));
    const bad = worst.filter((w) => !(w.p99 < GOAL_P99_MS) || w.missed > 0);
    return { ok: bad.length === 0, line: `N=${r.n} (${opt.store}): worst p99 ${f1(Math.max(...worst.map((w) => w.p99)))} ms${bad.length ? `; over the goal: ${bad.map((b) => `${b.label} p99 ${f1(b.p99)} ms${b.missed ? `, ${b.missed} missed` : ''}`).join('; ')}` : ''}` };
  });
  const ok = lines.every((l) => l.ok);
  return [`Goal: p99 under ${GOAL_P99_MS} ms for every change, none missed`, ...lines.map((l) => `  ${l.ok ? 'pass' : 'FAIL'} ${l.line}`), `RESULT: ${ok ? 'PASS' : 'FAIL'}`];
}

async function main(): Promise<void> {
  const sizes = opt.sizes.split(',').map((s) => Number(s.trim()));
  const reps = Number(opt.reps);
  const seconds = Number(opt['checkin-seconds']);
  const batch = Number(opt.batch);
  const settingsReps = Number(opt['settings-reps']);
  if (sizes.some((s) => !Number.isInteger(s) || s < 1 || s > 60_000) || !(reps >= 1) || !(seconds > 0) || !(batch >= 1) || !(settingsReps >= 0)) {
    throw new Error('usage: node bench/converge.ts [--sizes 100,1000] [--reps 5] [--checkin-seconds 4] [--batch 50] [--settings-reps 1] [--profile-controller DIR] [--keep]');
  }
  const t0 = now();
  const load0 = loadavg()[0]!;
  const results: SizeResult[] = [];
  for (const [i, n] of sizes.entries()) results.push(await runSize(n, reps, settingsReps, seconds, batch, i));
  report(results, reps, seconds, (now() - t0) / 1000, `${load0.toFixed(1)} at start, ${loadavg()[0]!.toFixed(1)} at end`);
  process.exit(0); // grpc-js keeps timers alive after the clients close
}

if (opt['echo-server']) {
  await runEchoServer(opt['echo-server']);
} else {
  await main();
}
