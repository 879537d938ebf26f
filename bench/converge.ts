// Convergence benchmark: how long a change takes to reach every agent, what the controller costs
// in memory and CPU per connected agent (against a bare grpc-js server holding as many TLS
// streams, measured in the same run), how a restarted controller's agents come back, and whether
// the controller drops Watch streams under load. Run:
//   npm run bench:converge [-- --agents 100,1000,5000 --reps 5 --checkin-seconds 4 --settings-reps 1
//     --batch 50 --steady-seconds 300 --workers W --store sqlite|postgres --profile-controller DIR
//     --heap-snapshot DIR --keep]
//
// The controller is the real `meshctl server` (bin/run.js) in a child process with real gRPC and
// TLS on loopback. The N agents are simulated in worker processes (bench/converge-agents.ts): each
// joins with its own X25519 public key on a connection that is closed afterwards (`meshctl join`),
// then, as the agent daemon does, opens a connection of its own (TLS) for its check-ins and its
// Watch stream, reopened with capped, jittered backoff when it ends. `--connect joined` (the
// default): each daemon connects right after its own join, from the version the join gave it,
// while the other joins go on; `--connect later`: every daemon connects once all have joined,
// from the network's version then (daemons that were up to date: quicker at 5,000 agents, and
// the long-lived connections then carry no whole view). "Applied" means the agent's
// Watch stream delivered the event that names the change (the peer's key in `upserted` for an
// add, in `removed` for a delete; the new keepalive for a settings change), timed on receipt in the
// worker against the moment the request was sent in this process (absolute clocks). Applying it to
// WireGuard is not simulated.
import { spawn, fork, type ChildProcess } from 'node:child_process';
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
import { freePort } from '../test/helpers/server-process.ts';
import { storeBackend } from './store-backend.ts';
import { adminFetchFor } from '../test/helpers/admin-fetch.ts';
import { tunedEnv } from '../src/controller/malloc.ts';

const BIN = fileURLToPath(new URL('../bin/run.js', import.meta.url));
const WORKER = fileURLToPath(new URL('./converge-agents.ts', import.meta.url));
const BARE = fileURLToPath(new URL('./converge-bare.ts', import.meta.url));

const { values: opt } = parseArgs({
  allowNegative: true,
  options: {
    agents: { type: 'string' },
    sizes: { type: 'string', default: '100,1000' }, // the older name of --agents
    reps: { type: 'string', default: '5' },
    'checkin-seconds': { type: 'string', default: '4' },
    'settings-reps': { type: 'string', default: '1' },
    batch: { type: 'string', default: '50' },
    workers: { type: 'string' },
    herd: { type: 'boolean', default: true },
    // every agent checks in once reporting a handshake with every peer before the memory samples
    // (what a healthy mesh's agents report every 15 s; off by default: not yet in the issue-15 figures)
    handshakes: { type: 'boolean', default: false },
    connect: { type: 'string', default: 'joined' }, // joined | later: when the agents' daemons connect (see above)
    'profile-controller': { type: 'string' }, // directory for the controller's --cpu-prof output
    'heap-snapshot': { type: 'string' }, // directory for a heap snapshot of the controller with N idle streams
    // at most this long idle with N streams open before the steady-state memory sample
    'steady-seconds': { type: 'string', default: '300' },
    'controller-prefix': { type: 'string' }, // a command the controller runs under (space-separated), e.g. a heap profiler
    store: { type: 'string', default: 'sqlite' }, // sqlite: one controller; postgres: two on one database
    keep: { type: 'boolean', default: false },
  },
});

const abs = () => performance.timeOrigin + performance.now();
// ---------------------------------------------------------------------------------------------
// Small tools

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.now();
export const pubKey = () => Buffer.from(generateKeyPairSync('x25519').publicKey.export({ format: 'jwk' }).x!, 'base64url').toString('base64');

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

/** Where a process's resident memory is, from /proc/<pid>/smaps: the main malloc arena (the
 * `[heap]` segment: native allocations of OpenSSL, nghttp2, Node's TLS buffers...), other
 * anonymous mappings (V8's heap pages, WebAssembly memory, malloc's large chunks and thread
 * arenas) and file mappings (the executable, libraries). MB. */
function smapsOf(pid: number): { mallocMb: number; anonMb: number; fileMb: number } {
  const out = { mallocMb: 0, anonMb: 0, fileMb: 0 };
  let into: keyof typeof out = 'anonMb';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const m = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (m) {
      const name = m[1]!.trim();
      into = name === '[heap]' ? 'mallocMb' : name === '' || name.startsWith('[') ? 'anonMb' : 'fileMb';
    } else if (line.startsWith('Rss:')) out[into] += Number(line.split(/\s+/)[1]) / 1024;
  }
  return out;
}

/** A memory sample of a server: RSS and where it is (smaps), and what the process itself says
 * (process.memoryUsage(): V8 heap used and committed, external memory, ArrayBuffers). MB. */
interface MemSample {
  rssMb: number;
  mallocMb: number;
  anonMb: number;
  fileMb: number;
  heapUsedMb: number;
  heapTotalMb: number;
  externalMb: number;
  arrayBuffersMb: number;
}

function memSample(pid: number, usage: { heapUsed: number; heapTotal: number; external: number; arrayBuffers: number } | undefined): MemSample {
  const mb = (x: number | undefined) => (x === undefined ? NaN : x / 2 ** 20);
  return { rssMb: procStatus(pid).rssMb, ...smapsOf(pid), heapUsedMb: mb(usage?.heapUsed), heapTotalMb: mb(usage?.heapTotal), externalMb: mb(usage?.external), arrayBuffersMb: mb(usage?.arrayBuffers) };
}

const showMem = (m: MemSample) =>
  `RSS ${m.rssMb.toFixed(0)} MB (malloc arena ${m.mallocMb.toFixed(0)}, other anonymous ${m.anonMb.toFixed(0)}, files ${m.fileMb.toFixed(0)}); ` +
  `V8 heap used ${m.heapUsedMb.toFixed(0)} of ${m.heapTotalMb.toFixed(0)} MB, external ${m.externalMb.toFixed(0)} MB (ArrayBuffers ${m.arrayBuffersMb.toFixed(0)})`;

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
/** Called on SIGINT/SIGTERM before exiting: reports the sizes that completed (a run given a
 * deadline with `timeout` still prints what it measured). */
let onInterrupted: (() => void) | undefined;
process.once('SIGINT', () => { onInterrupted?.(); process.exit(130); });
process.once('SIGTERM', () => { onInterrupted?.(); process.exit(143); });

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
  apiPort: number;
  grpcPort: number;
  apiUrl: string;
  token: string;
  dataDir: string;
  logPath: string;
  admin<T>(method: string, path: string, body?: unknown): Promise<T>;
}

async function startController(root: string, profileDir: string | undefined, extra: string[] = [], name = 'data', ports?: { api: number; grpc: number }): Promise<Controller> {
  const dataDir = join(root, name);
  const logPath = join(root, `${name}.log`);
  const api = ports?.api ?? await freePort();
  const grpcPort = ports?.grpc ?? await freePort();
  // The log goes to a file: a pipe that this busy process drains late would block the controller's sync writes.
  // (So not test/helpers/server-process.ts's startServer: it pipes stderr, and takes no --cpu-prof.)
  const logFd = openSync(logPath, 'a');
  const profile = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  if (opt['heap-snapshot']) profile.push('--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${opt['heap-snapshot']}`);
  // e.g. --controller-prefix 'heaptrack -o /tmp/ht': where the native memory goes (the pid is then the wrapper's)
  const wrap = opt['controller-prefix'] ? opt['controller-prefix'].split(' ') : [];
  const proc = spawn(wrap[0] ?? process.execPath, [...wrap.slice(1), ...(wrap.length ? [process.execPath] : []), ...profile, BIN, 'server', '--data-dir', dataDir, '--api-addr', `127.0.0.1:${api}`, '--grpc-addr', `127.0.0.1:${grpcPort}`, '--public-host', '127.0.0.1', '--no-relay', ...extra], {
    stdio: ['ignore', 'ignore', logFd],
  });
  closeSync(logFd);
  children.add(proc);
  const apiUrl = `https://127.0.0.1:${api}`;
  const adminFetch = adminFetchFor(dataDir);
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`meshctl server exited with ${proc.exitCode}:\n${readFileSync(logPath, 'utf8').slice(-2000)}`);
    if (Date.now() > deadline) throw new Error(`meshctl server did not answer within 90 s:\n${readFileSync(logPath, 'utf8').slice(-2000)}`);
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
  return { proc, pid: proc.pid!, apiPort: api, grpcPort, apiUrl, token, dataDir, logPath, admin };
}


// ---------------------------------------------------------------------------------------------
// Worker processes holding the agents

interface Worker {
  proc: ChildProcess;
  /** Resolves with the next message of `type` (and `key`, when given). */
  next<T = Record<string, unknown>>(type: string, key?: string): Promise<T>;
  send(m: unknown): void;
}

async function startWorker(): Promise<Worker> {
  const proc = fork(WORKER, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.add(proc);
  const waiting: { type: string; key?: string; resolve: (m: never) => void; reject: (e: Error) => void }[] = [];
  proc.on('message', (m: { type: string; key?: string; message?: string; joined?: number }) => {
    if (m.type === 'error') {
      for (const w of waiting.splice(0)) w.reject(new Error(`agent worker: ${m.message}`));
      return;
    }
    if (m.type === 'progress') return;
    const i = waiting.findIndex((w) => w.type === m.type && (w.key === undefined || w.key === m.key));
    if (i >= 0) waiting.splice(i, 1)[0]!.resolve(m as never);
  });
  proc.once('exit', (code) => {
    for (const w of waiting.splice(0)) w.reject(new Error(`agent worker exited (${code})`));
  });
  const next = <T>(type: string, key?: string) => {
    const p = new Promise<T>((resolve, reject) => waiting.push({ type, key, resolve: resolve as never, reject }));
    p.catch(() => {}); // a worker that exits while we wait: the caller awaiting it sees the error
    return p;
  };
  const ready = next('ready');
  await ready;
  return { proc, next, send: (m) => proc.send(m as never) };
}

interface ChangeSample {
  latencies: number[];
  missing: number;
  replyMs: number;
  /** CPU the controller used from the change until every agent had it (10 ms ticks). */
  ctlCpuMs: number;
}

/** Registers in every worker what each agent must see, then makes the change; resolves when
 * every agent has it (or at the timeout). */
async function expectAll(workers: Worker[], ctlPid: number | number[], kind: 'add' | 'delete' | 'settings', match: string, trigger: () => Promise<void>, timeoutMs: number): Promise<ChangeSample> {
  const key = `${kind}:${match}`;
  const acks = workers.map((w) => w.next('expecting', key));
  const seen = workers.map((w) => w.next<{ times: number[]; missing: number }>('seen', key));
  for (const w of workers) w.send({ type: 'expect', kind, match, timeoutMs });
  await Promise.all(acks);
  const cpu0 = procCpuMs(ctlPid);
  const t0 = abs();
  await trigger();
  const replyMs = abs() - t0;
  const results = await Promise.all(seen);
  const ctlCpuMs = procCpuMs(ctlPid) - cpu0;
  return { latencies: results.flatMap((r) => r.times.map((t) => t - t0)), missing: results.reduce((x, r) => x + r.missing, 0), replyMs, ctlCpuMs };
}

// ---------------------------------------------------------------------------------------------
// One size

interface ChangeRow { label: string; samples: ChangeSample[] }

interface CheckinResult { rate: number; p50: number; p99: number; errors: number; serverCpuUsPerCall: number; note: string }

interface HerdResult { allBackS: number; liveS: number; missing: number; peakCpuPct: number; backAt: number }

interface SizeResult {
  n: number;
  workers: number;
  joinS: number;
  /** The controller with its network and no nodes; right after the N streams opened (the join
   * burst just over); idle with the N streams open, once its RSS is steady (after `steadyS`). */
  ctlEmpty: MemSample;
  ctlBurst: MemSample;
  ctlSteady: MemSample;
  hwmMb: number;
  /** The bare grpc-js server: started, no streams; holding N streams, sampled with ctlSteady. */
  bareEmpty: MemSample;
  bareSteady: MemSample;
  steadyS: number;
  /** CPU (% of one core) of the controller and of the bare server while idle until steadyS. */
  idleCpuPct: [number, number];
  changes: ChangeRow[];
  checkin?: CheckinResult;
  bareCheckin?: CheckinResult;
  herd?: HerdResult;
  dropped: number;
  dropReason: string;
  /** Whole views the daemons' long-lived connections carried before the steady-state sample (Watch
   * snapshots and check-in replies with a view), how many agents got one, the most peers in one. */
  views: { views: number; withView: number; maxViewPeers: number };
}

type ViewStats = { views: number; withView: number; maxViewPeers: number };
const sumViews = (xs: ViewStats[]): ViewStats => ({ views: xs.reduce((x, s) => x + s.views, 0), withView: xs.reduce((x, s) => x + s.withView, 0), maxViewPeers: Math.max(0, ...xs.map((s) => s.maxViewPeers)) });

/** Waits until the process used under 30 % of a core over a second (at most `maxS`); returns
 * how long that took. */
async function settle(pid: number, maxS: number): Promise<number> {
  const t0 = abs();
  let prev = procCpuMs(pid);
  while (abs() - t0 < maxS * 1000) {
    await sleep(1000);
    const c = procCpuMs(pid);
    if (c - prev < 300) break;
    prev = c;
  }
  return (abs() - t0) / 1000;
}

async function checkinRound(workers: Worker[], pid: number | number[], seconds: number, port?: number): Promise<CheckinResult> {
  const warmMs = 500;
  const replies = workers.map((w) => w.next<{ lat: number[]; errors: number; firstError: string }>('checkins'));
  let cpu0 = 0;
  const t = setTimeout(() => (cpu0 = procCpuMs(pid)), warmMs);
  for (const w of workers) w.send({ type: 'checkins', seconds, port, warmMs });
  const cpuEnd = new Promise<number>((r) => setTimeout(() => r(procCpuMs(pid)), warmMs + seconds * 1000));
  const rs = await Promise.all(replies);
  clearTimeout(t);
  const cpuMs = (await cpuEnd) - cpu0;
  const lat = rs.flatMap((r) => r.lat).sort((a, b) => a - b);
  return {
    rate: lat.length / seconds, p50: pct(lat, 50), p99: pct(lat, 99), errors: rs.reduce((x, r) => x + r.errors, 0),
    serverCpuUsPerCall: (cpuMs * 1000) / Math.max(1, lat.length), note: rs.find((r) => r.firstError)?.firstError ?? '',
  };
}

interface Bare { proc: ChildProcess; port: number; mem(): Promise<MemSample> }

async function startBare(dataDir: string): Promise<Bare> {
  // with the malloc setting `meshctl server` gives itself (src/controller/malloc.ts), so that both run alike
  const proc = spawn(process.execPath, [BARE, dataDir], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'], env: tunedEnv(process.env) ?? process.env });
  children.add(proc);
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /PORT (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    proc.once('exit', (code) => reject(new Error(`bare server exited with ${code}`)));
  });
  const mem = async () => {
    const usage = new Promise<NodeJS.MemoryUsage>((resolve) => proc.once('message', (m) => resolve(m as NodeJS.MemoryUsage)));
    proc.send('memory');
    return memSample(proc.pid!, await usage);
  };
  return { proc, port, mem };
}

/** The controller's process.memoryUsage() figures, from its /metrics (undefined when it does not answer). */
async function usageOf(ctl: Controller): Promise<{ heapUsed: number; heapTotal: number; external: number; arrayBuffers: number } | undefined> {
  try {
    const res = await adminFetchFor(ctl.dataDir)(`${ctl.apiUrl}/metrics`, { headers: { authorization: `Bearer ${ctl.token}` } });
    const text = await res.text();
    const g = (name: string) => Number(new RegExp(`^meshctl_process_${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    return { heapUsed: g('nodejs_heap_size_used_bytes'), heapTotal: g('nodejs_heap_size_total_bytes'), external: g('nodejs_external_memory_bytes'), arrayBuffers: g('nodejs_array_buffers_bytes') };
  } catch {
    return undefined;
  }
}

const ctlMem = async (ctl: Controller) => memSample(ctl.pid, await usageOf(ctl));

/** Waits until the controller and the bare server are at steady state: each one's RSS has not
 * fallen by more than 2 % over the last 60 s, and the controller's V8 heap holds no large
 * uncollected garbage any more (committed at most 1.5x used + 8 MB: V8's memory reducer gives
 * a burst's heap back only after half a minute to a few minutes of idling, and RSS may sit flat
 * for a minute before it does). At least 60 s, at most `maxS`. Returns the seconds waited. */
async function idleUntilSteady(ctl: Controller, barePid: number, maxS: number, trace?: (idleS: number) => Promise<void>): Promise<number> {
  const t0 = abs();
  const trails: number[][] = [[], []];
  for (;;) {
    await sleep(Math.min(10, maxS) * 1000);
    [ctl.pid, barePid].forEach((pid, i) => trails[i]!.push(procStatus(pid).rssMb));
    const idleS = (abs() - t0) / 1000;
    await trace?.(idleS);
    const flat = trails.every((tr) => tr.length >= 7 && tr.at(-1)! >= tr.at(-7)! * 0.98);
    if (idleS >= maxS) return idleS;
    if (idleS >= 60 && flat) {
      const u = await usageOf(ctl);
      if (u && u.heapTotal <= u.heapUsed * 1.5 + 8 * 2 ** 20) return idleS;
    }
  }
}

function log(msg: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

async function runSize(n: number, reps: number, settingsReps: number, checkinSeconds: number, batch: number, sizeIdx: number): Promise<SizeResult> {
  const root = await mkdtemp(join(tmpdir(), `meshctl-bench-${n}-`));
  tempRoots.add(root);
  const profileDir = opt['profile-controller'] ? join(opt['profile-controller'], `n${n}`) : undefined;
  const backend = await storeBackend(opt.store, root);
  const ctls: Controller[] = [];
  const workers: Worker[] = [];
  let memBare: Bare | undefined;
  try {
    ctls.push(await startController(root, profileDir, backend.args));
    for (let i = 1; i < backend.controllers; i++) ctls.push(await startController(root, undefined, backend.args, `data-${i}`));
    let ctl = ctls[0]!;
    const pids = () => ctls.map((c) => c.pid);
    const net = `bench${n}`;
    await ctl.admin('POST', '/networks', { name: net, cidr: `10.${100 + sizeIdx}.0.0/16`, keepalive: 20 });
    const { token } = await ctl.admin<{ token: string }>('POST', `/networks/${net}/keys`, { name: 'bench', uses: 'unlimited' });
    const t = decodeJoinToken(token);
    const ca = await fetchPinnedCa(t.server, t.caPin);
    // The baselines: the controller just started, with its network and no nodes; the bare
    // grpc-js server just started (both hold their start-up garbage: V8 collects it only once a
    // full collection has run, which an idle process does not do).
    const maxSteadyS = Number(opt['steady-seconds']);
    memBare = await startBare(ctl.dataDir);
    // The controller collects its start-up garbage (some 25 MB) once quiet (controller/quiet-gc.ts):
    // its baseline is sampled after that, as its steady state is. Sampled before, the baseline
    // would hold garbage that the steady state no longer does, and flatter the figure per agent.
    for (const until = abs() + 30_000; abs() < until && !readFileSync(ctl.logPath, 'utf8').includes('once quiet after the start'); ) await sleep(500);
    await sleep(500);
    const ctlEmpty = await ctlMem(ctl);
    const bareEmpty = await memBare.mem();
    log(`N=${n}: controller with no nodes: ${showMem(ctlEmpty)}`);
    log(`N=${n}: bare grpc-js with no streams: ${showMem(bareEmpty)}`);

    const nw = Math.max(1, Math.min(n, Number(opt.workers ?? Math.min(4, Math.ceil(n / 400)))));
    for (let i = 0; i < nw; i++) workers.push(await startWorker());
    const slice = Math.ceil(n / nw);
    log(`N=${n}: joining ${n} agents from ${nw} worker processes, ${batch} at a time each`);
    const tj = abs();
    const joined = workers.map((w) => w.next('joined'));
    workers.forEach((w, i) => w.send({
      type: 'join', from: i * slice, to: Math.min(n, (i + 1) * slice), batch, network: net, keyName: t.keyName, keySecret: t.secret,
      server: `127.0.0.1:${ctls[i % ctls.length]!.grpcPort}`, ca, connect: opt.connect,
    }));
    await Promise.all(joined);
    const joinS = (abs() - tj) / 1000;
    const version = (await ctl.admin<{ version: number }>('GET', `/networks/${net}`)).version;
    const watching = workers.map((w) => w.next<ViewStats>('watching'));
    for (const w of workers) w.send({ type: 'watch', version });
    const connected = sumViews(await Promise.all(watching));
    log(`N=${n}: joined in ${joinS.toFixed(1)} s (${(n / joinS).toFixed(0)}/s; each join reply carries the whole view, on the join's own connection); ` +
      (opt.connect === 'later' ? `every agent's daemon connected at version ${version}` : `every agent's daemon connected right after its join, from the version its join gave`) +
      `; their connections carried ${connected.views} whole views so far (${connected.withView} agents, at most ${connected.maxViewPeers} peers)`);

    if (opt.handshakes) {
      const nodes = await ctl.admin<{ publicKey: string }[]>('GET', `/networks/${net}/nodes`);
      const keys = nodes.map((x) => x.publicKey);
      const tr = abs();
      const reported = workers.map((w) => w.next('reported'));
      for (const w of workers) w.send({ type: 'report', keys, concurrency: 8 });
      await Promise.all(reported);
      log(`N=${n}: every agent checked in once with a handshake reported for each of its ${keys.length - 1} peers (${((abs() - tr) / 1000).toFixed(1)} s)`);
    }
    // Opening N streams is itself a storm (each new stream is sent its paths to every peer):
    // wait until the controller is quiet before measuring anything.
    const settleS = await settle(ctl.pid, 600);
    log(`N=${n}: controller quiet ${settleS.toFixed(1)} s after the streams opened`);
    // Ready: every agent has seen a probe change (streams still being set up miss one).
    const joinOne = (client: NodeClient, name: string, publicKey: string) =>
      client.join({ network: net, keyName: t.keyName, keySecret: t.secret, name, publicKey, listenPort: 51821, endpoint: '' });
    const probe = async (label: string, timeoutMs = 20_000) => {
      for (let i = 0; ; i++) {
        const c = new NodeClient(`127.0.0.1:${ctl.grpcPort}`, ca);
        // a controller busy with a storm (N streams opening, a restart herd) may take long to
        // take a new connection: wait for it, rather than count that against the probe
        await new Promise<void>((resolve) => (c as unknown as { raw: grpc.Client }).raw.waitForReady(Date.now() + 300_000, () => resolve()));
        const key = pubKey();
        const name = `probe-${label}-${i}`;
        let added: ChangeSample;
        try {
          added = await expectAll(workers, pids(), 'add', key, async () => { await joinOne(c, name, key); }, timeoutMs);
        } catch (err) {
          c.close();
          if (i >= 9) throw err;
          log(`N=${n}: probe ${label} ${i}: ${(err as Error).message}; probing again`);
          await sleep(2000);
          continue;
        }
        c.close();
        const removed = await expectAll(workers, pids(), 'delete', key, async () => { await ctl.admin('DELETE', `/networks/${net}/nodes/${name}`); }, timeoutMs);
        if (added.missing === 0 && removed.missing === 0) return;
        if (i >= 4) throw new Error(`after ${i + 1} probes, ${removed.missing} of ${n} agents still do not receive changes`);
        log(`N=${n}: probe ${label} ${i}: ${added.missing} missed the add, ${removed.missing} the delete; probing again`);
      }
    };
    await probe('ready');
    await sleep(1000);
    const ctlBurst = await ctlMem(ctl);
    log(`N=${n}: all ${n} streams live; controller with ${n} streams, the join burst just over: ${showMem(ctlBurst)}`);

    // Memory at steady state, against the bare grpc-js server holding as many TLS streams: both
    // idle with their N streams open until their RSS is steady, then both are sampled.
    const bareOpen = workers.map((w) => w.next('bare'));
    for (const w of workers) w.send({ type: 'bare', port: memBare.port });
    await Promise.all(bareOpen);
    log(`N=${n}: bare grpc-js server holding ${n} streams; both servers idle until their RSS is steady (at most ${maxSteadyS} s)`);
    const mb = memBare;
    const idleCpu0 = [procCpuMs(ctl.pid), procCpuMs(mb.proc.pid!)];
    const steadyS = await idleUntilSteady(ctl, mb.proc.pid!, maxSteadyS, process.env.BENCH_RSS_TRACE ? async (idleS) => {
      log(`N=${n}: idle ${idleS.toFixed(0)} s: controller ${showMem(await ctlMem(ctl))}; bare RSS ${procStatus(mb.proc.pid!).rssMb.toFixed(0)} MB`);
    } : undefined);
    // CPU while idle with N streams open (before the samples below: a scrape reads the store)
    const idleCpuPct = [procCpuMs(ctl.pid), procCpuMs(mb.proc.pid!)].map((c, i) => ((c - idleCpu0[i]!) / (steadyS * 1000)) * 100) as [number, number];
    log(`N=${n}: CPU while idle ${steadyS.toFixed(0)} s with ${n} streams: controller ${idleCpuPct[0].toFixed(1)} %, bare grpc-js ${idleCpuPct[1].toFixed(1)} % of one core`);
    const ctlSteady = await ctlMem(ctl);
    const bareSteady = await mb.mem();
    const views = sumViews(await Promise.all(workers.map(async (w) => { const r = w.next<ViewStats>('stats'); w.send({ type: 'stats' }); return r; })));
    log(`N=${n}: the agents' long-lived connections carried ${views.views} whole views (Watch snapshots and check-in replies with a view) to ${views.withView} of ${n} agents, at most ${views.maxViewPeers} peers in one`);
    log(`N=${n}: after ${steadyS.toFixed(0)} s idle: controller ${showMem(ctlSteady)}`);
    log(`N=${n}: after ${steadyS.toFixed(0)} s idle: bare grpc-js ${showMem(bareSteady)} (${showMem(bareEmpty).split(';')[0]} with no streams)`);
    if (opt['heap-snapshot']) {
      process.kill(ctl.pid, 'SIGUSR2');
      log(`N=${n}: heap snapshot of the controller requested into ${opt['heap-snapshot']}`);
      await sleep(15_000);
    }
    {
      const closed = workers.map((w) => w.next('bare-closed'));
      for (const w of workers) w.send({ type: 'bare-close' });
      await Promise.all(closed);
      await stopChild(mb.proc);
      memBare = undefined;
    }

    const added: ChangeRow = { label: 'node added (join)', samples: [] };
    const deleted: ChangeRow = { label: 'node deleted (REST)', samples: [] };
    for (let r = 0; r < reps; r++) {
      const joiner = new NodeClient(`127.0.0.1:${ctl.grpcPort}`, ca);
      // Connect first, so that t0 is the moment the Join request leaves, not TLS set-up.
      await new Promise<void>((resolve, reject) => (joiner as unknown as { raw: grpc.Client }).raw.waitForReady(Date.now() + 10_000, (e) => (e ? reject(e) : resolve())));
      const key = pubKey();
      const name = `x${r}`;
      const a = await expectAll(workers, pids(), 'add', key, async () => { await joinOne(joiner, name, key); }, 30_000);
      joiner.close();
      added.samples.push(a);
      await sleep(300);
      const d = await expectAll(workers, pids(), 'delete', key, async () => { await ctl.admin('DELETE', `/networks/${net}/nodes/${name}`); }, 30_000);
      deleted.samples.push(d);
      log(`N=${n}: rep ${r + 1}/${reps}: add max ${Math.max(...a.latencies).toFixed(1)} ms (controller CPU ${a.ctlCpuMs} ms), delete max ${Math.max(...d.latencies).toFixed(1)} ms (controller CPU ${d.ctlCpuMs} ms)`);
      await sleep(300);
    }
    const changes = [added, deleted];
    if (settingsReps > 0) {
      const settings: ChangeRow = { label: 'keepalive changed (REST)', samples: [] };
      for (let r = 0; r < settingsReps; r++) {
        const keepalive = 21 + r;
        const c = await expectAll(workers, pids(), 'settings', String(keepalive), async () => { await ctl.admin('PATCH', `/networks/${net}`, { keepalive }); }, 60_000);
        settings.samples.push(c);
        log(`N=${n}: settings ${r + 1}/${settingsReps}: max ${Math.max(...c.latencies).toFixed(1)} ms (controller CPU ${c.ctlCpuMs} ms)`);
        await sleep(300);
      }
      changes.push(settings);
    }

    // Streams that ended so far, by phase: which part of the run drops them.
    const dropsSoFar = async (when: string) => {
      const st = await Promise.all(workers.map(async (w) => { const r = w.next<{ dropped: number; lastEnd: string; stallMs: number }>('stats'); w.send({ type: 'stats' }); return r; }));
      const d = st.reduce((x, s) => x + s.dropped, 0);
      log(`N=${n}: Watch streams ended so far (${when}): ${d}${d ? ` (last: ${st.find((s) => s.lastEnd)?.lastEnd})` : ''}; longest stall of a bench worker's event loop meanwhile ${Math.max(...st.map((s) => s.stallMs)).toFixed(0)} ms`);
    };
    await dropsSoFar('after the changes');
    // The bare grpc-js server again, for the check-ins against it.
    const bare = await startBare(ctl.dataDir);
    const bareReopened = workers.map((w) => w.next('bare'));
    for (const w of workers) w.send({ type: 'bare', port: bare.port });
    await Promise.all(bareReopened);
    let checkin: CheckinResult | undefined;
    let bareCheckin: CheckinResult | undefined;
    await dropsSoFar('after the bench opened as many streams to the bare server');
    if (checkinSeconds > 0) {
      log(`N=${n}: check-ins, one in flight per agent, ${checkinSeconds} s against the controller, then the bare server`);
      checkin = await checkinRound(workers, pids(), checkinSeconds); // agents check in with every controller
      await dropsSoFar('after the check-ins against the controller');
      bareCheckin = await checkinRound(workers, bare.proc.pid!, checkinSeconds, bare.port);
    }
    const closed = workers.map((w) => w.next('bare-closed'));
    for (const w of workers) w.send({ type: 'bare-close' });
    await Promise.all(closed);
    await stopChild(bare.proc);
    const hwmMb = procStatus(ctl.pid).hwmMb;

    // Streams the controller dropped so far (the restart below ends them all on purpose).
    const stats = await Promise.all(workers.map(async (w) => { const r = w.next<{ dropped: number; lastEnd: string }>('stats'); w.send({ type: 'stats' }); return r; }));
    const dropped = stats.reduce((x, s) => x + s.dropped, 0);
    const dropReason = stats.find((s) => s.lastEnd)?.lastEnd ?? '';

    // The restart herd: kill the controller, start it again on the same data and ports, and time
    // until every agent has checked in again and every Watch stream carries changes.
    let herd: HerdResult | undefined;
    if (opt.herd && backend.controllers === 1) try {
      await Promise.all(workers.map(async (w) => { const r = w.next('herd-armed'); w.send({ type: 'herd' }); return r; }));
      log(`N=${n}: restart herd: SIGKILL the controller, start it again`);
      process.kill(ctl.pid, 'SIGKILL');
      await new Promise((r) => ctl.proc.once('exit', r));
      children.delete(ctl.proc);
      const restarted = await startController(root, undefined, backend.args, 'data', { api: ctl.apiPort, grpc: ctl.grpcPort });
      ctls[0] = restarted;
      ctl = restarted;
      const tUp = abs();
      let cpuPrev = procCpuMs(ctl.pid);
      let tPrev = abs();
      let peakCpuPct = 0;
      let status = { back: 0, total: n, lastBack: 0 };
      let lastLog = tUp;
      let cpuLog = cpuPrev;
      const deadline = tUp + 120_000;
      while (abs() < deadline) {
        await sleep(250);
        const c = procCpuMs(ctl.pid);
        const tNow = abs();
        peakCpuPct = Math.max(peakCpuPct, ((c - cpuPrev) / (tNow - tPrev)) * 100);
        cpuPrev = c;
        tPrev = tNow;
        const st = await Promise.all(workers.map(async (w) => { const r = w.next<{ back: number; lastBack: number; live: number; failed: number; lastError: string }>('herd-status'); w.send({ type: 'herd-status' }); return r; }));
        status = { back: st.reduce((x, s) => x + s.back, 0), total: n, lastBack: Math.max(...st.map((s) => s.lastBack)) };
        if (tNow - lastLog >= 5000) {
          lastLog = tNow;
          const failed = st.reduce((x, s) => x + s.failed, 0);
          const err = st.find((s) => s.lastError)?.lastError;
          log(`N=${n}: herd +${((tNow - tUp) / 1000).toFixed(0)} s: ${status.back} checked in, ${st.reduce((x, s) => x + s.live, 0)} streams open, ${failed} check-ins failed${err ? ` (last: ${err})` : ''}; controller CPU ${(((c - cpuLog) / 5000) * 100).toFixed(0)} %, RSS ${procStatus(ctl.pid).rssMb.toFixed(0)} MB`);
          cpuLog = c;
        }
        if (status.back === n) break;
      }
      const allBackS = status.back === n ? (status.lastBack - tUp) / 1000 : NaN;
      await Promise.all(workers.map(async (w) => { const r = w.next('herd-done'); w.send({ type: 'herd-done' }); return r; }));
      await probe('herd', 30_000);
      const liveS = (abs() - tUp) / 1000;
      herd = { allBackS, liveS, missing: n - status.back, peakCpuPct, backAt: status.back };
      log(`N=${n}: herd: ${status.back}/${n} agents checked in again after ${allBackS.toFixed(1)} s; every Watch carried a change at ${liveS.toFixed(1)} s; controller CPU peak ${peakCpuPct.toFixed(0)} % (250 ms samples)`);
    } catch (err) {
      log(`N=${n}: the restart herd failed: ${(err as Error).message}`);
      herd = { allBackS: NaN, liveS: NaN, missing: n, peakCpuPct: NaN, backAt: 0 };
    }

    return { n, workers: nw, joinS, ctlEmpty, ctlBurst, ctlSteady, hwmMb, bareEmpty, bareSteady, steadyS, idleCpuPct, changes, checkin, bareCheckin, herd, dropped, dropReason, views };
  } catch (err) {
    // said before the workers close: their pending replies then fail too, and would hide it
    log(`N=${n}: ${(err as Error).stack ?? String(err)}`);
    throw err;
  } finally {
    for (const w of workers) { try { w.send({ type: 'close' }); } catch { /* gone */ } }
    await Promise.all(workers.map((w) => (w.proc.exitCode === null ? new Promise((r) => { w.proc.once('exit', r); setTimeout(r, 5000); }) : undefined)));
    for (const w of workers) children.delete(w.proc);
    for (const c of ctls) await stopChild(c.proc);
    if (memBare) await stopChild(memBare.proc);
    await backend.close();
    if (!opt.keep) {
      await rm(root, { recursive: true, force: true });
      tempRoots.delete(root);
    } else log(`kept ${root}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Report

const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '-');
const f0 = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : '-');

function table(rows: string[][]): string {
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ')).join('\n');
}

function mdTable(rows: string[][]): string {
  return [rows[0]!, rows[0]!.map((_, i) => (i === 0 ? '---' : '---:')), ...rows.slice(1)].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

const GOALS = { joinP99Ms: 1000, memRatio: 1.3, herdS: 60, dropped: 0 };

function report(results: SizeResult[], reps: number, wallS: number, load: string): void {
  const conv = [['N', 'change', 'samples', 'p50 ms', 'p99 ms', 'max ms', 'ctl CPU ms/change', 'missed']];
  for (const r of results) {
    for (const c of r.changes) {
      const lat = c.samples.flatMap((x) => x.latencies).sort((x, y) => x - y);
      const cpu = c.samples.reduce((x, y) => x + y.ctlCpuMs, 0) / c.samples.length;
      conv.push([String(r.n), c.label, String(lat.length), f1(pct(lat, 50)), f1(pct(lat, 99)), f1(lat.at(-1)!), f0(cpu), String(c.samples.reduce((x, y) => x + y.missing, 0))]);
    }
  }
  // per connected agent: RSS with N streams (at steady state) less RSS with none, over N
  const perAgent = (r: SizeResult) => ((r.ctlSteady.rssMb - r.ctlEmpty.rssMb) * 1024) / r.n;
  const perBare = (r: SizeResult) => ((r.bareSteady.rssMb - r.bareEmpty.rssMb) * 1024) / r.n;
  const perAgentBurst = (r: SizeResult) => ((r.ctlBurst.rssMb - r.ctlEmpty.rssMb) * 1024) / r.n;
  const mem = [['N', 'ctl RSS empty MB', 'ctl RSS after joins MB', 'ctl RSS steady MB', 'ctl peak MB', 'ctl KB/agent', 'bare RSS empty MB', 'bare RSS steady MB', 'bare KB/stream', 'ratio', 'ratio after joins', 'join N s', 'joins/s', 'ctl idle CPU %', 'bare idle CPU %']];
  for (const r of results) mem.push([String(r.n), f0(r.ctlEmpty.rssMb), f0(r.ctlBurst.rssMb), f0(r.ctlSteady.rssMb), f0(r.hwmMb), f0(perAgent(r)), f0(r.bareEmpty.rssMb), f0(r.bareSteady.rssMb), f0(perBare(r)), (perAgent(r) / perBare(r)).toFixed(2), (perAgentBurst(r) / perBare(r)).toFixed(2), f1(r.joinS), f0(r.n / r.joinS), f1(r.idleCpuPct[0]), f1(r.idleCpuPct[1])]);
  const where = [['N', 'server', 'when', 'RSS MB', 'malloc arena MB', 'other anon MB', 'files MB', 'V8 heap used MB', 'V8 heap total MB', 'external MB', 'ArrayBuffers MB']];
  const whereRow = (n: number, server: string, when: string, m: MemSample) => [String(n), server, when, f0(m.rssMb), f0(m.mallocMb), f0(m.anonMb), f0(m.fileMb), f0(m.heapUsedMb), f0(m.heapTotalMb), f0(m.externalMb), f0(m.arrayBuffersMb)];
  for (const r of results) {
    where.push(whereRow(r.n, 'meshctl', 'no nodes', r.ctlEmpty), whereRow(r.n, 'meshctl', 'after joins', r.ctlBurst), whereRow(r.n, 'meshctl', 'steady', r.ctlSteady));
    where.push(whereRow(r.n, 'bare grpc-js', 'no streams', r.bareEmpty), whereRow(r.n, 'bare grpc-js', 'steady', r.bareSteady));
  }
  const herdRows = [['N', 'all checked in again s', 'every Watch live s', 'not back', 'ctl CPU peak %', 'streams dropped by the controller']];
  for (const r of results) herdRows.push([String(r.n), r.herd ? f1(r.herd.allBackS) : '-', r.herd ? f1(r.herd.liveS) : '-', r.herd ? String(r.herd.missing) : '-', r.herd ? f0(r.herd.peakCpuPct) : '-', String(r.dropped)]);
  const ci = [['N', 'server', 'calls/s', 'p50 ms', 'p99 ms', 'server CPU µs/call', 'errors']];
  for (const r of results) {
    if (!r.checkin || !r.bareCheckin) continue;
    ci.push([String(r.n), 'meshctl CheckIn', f0(r.checkin.rate), f1(r.checkin.p50), f1(r.checkin.p99), f0(r.checkin.serverCpuUsPerCall), String(r.checkin.errors)]);
    ci.push([String(r.n), 'bare grpc-js', f0(r.bareCheckin.rate), f1(r.bareCheckin.p50), f1(r.bareCheckin.p99), f0(r.bareCheckin.serverCpuUsPerCall), String(r.bareCheckin.errors)]);
  }
  const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
  const out: string[] = [];
  out.push('', `meshctl convergence benchmark — ${machine}; whole run ${wallS.toFixed(0)} s; load average (1 min) ${load}`, '');
  out.push(`Change propagation (change -> every agent has it; peer changes ${reps} times each)`, table(conv), '');
  out.push(`Controller memory per connected agent, against a bare grpc-js server holding as many TLS streams (same run; "steady": both idle with N streams open until their RSS is flat and the controller's V8 heap has given back the join burst's garbage: ${results.map((r) => `${f0(r.steadyS)} s at N=${r.n}`).join(', ')})`, table(mem), '');
  out.push('Where the memory is (malloc arena: the [heap] segment; other anon: V8 heap pages, WebAssembly, large malloc chunks)', table(where), '');
  out.push('Restart herd (SIGKILL, start again; agents back off 0.5-5 s with jitter) and dropped streams', table(herdRows), '');
  if (ci.length > 1) out.push('Check-ins (unary, nothing changed, one in flight per agent)', table(ci), '');
  for (const r of results) if (r.dropped) out.push(`! N=${r.n}: ${r.dropped} Watch streams ended during the run and were reopened (${r.dropReason})`);
  const largest = results.reduce((a, b) => (b.n > a.n ? b : a));
  const goals: string[] = [];
  const joinLat = largest.changes[0]!.samples.flatMap((x) => x.latencies).sort((x, y) => x - y);
  const p99 = pct(joinLat, 99);
  goals.push(`${p99 < GOALS.joinP99Ms ? 'PASS' : 'FAIL'} p99 join convergence at N=${largest.n}: ${f1(p99)} ms (goal < ${GOALS.joinP99Ms} ms: x${(p99 / GOALS.joinP99Ms).toFixed(2)})`);
  // every other change at the same goal (issue 13: the same on PostgreSQL, across controllers)
  for (const c of largest.changes.slice(1)) {
    const q = pct(c.samples.flatMap((x) => x.latencies).sort((x, y) => x - y), 99);
    const missed = c.samples.reduce((x, y) => x + y.missing, 0);
    goals.push(`${q < GOALS.joinP99Ms && missed === 0 ? 'PASS' : 'FAIL'} p99 ${c.label} at N=${largest.n} (${opt.store}): ${f1(q)} ms${missed ? `, ${missed} missed` : ''} (goal < ${GOALS.joinP99Ms} ms: x${(q / GOALS.joinP99Ms).toFixed(2)})`);
  }
  for (const r of results) {
    const ratio = perAgent(r) / perBare(r);
    // Below 1,000 agents the difference is within what V8 leaves uncollected in an idle process
    // (the controller's start-up garbage, 20-30 MB, is collected only once it has worked): shown, not judged.
    const verdict = r.n < 1000 ? 'INFO' : ratio <= GOALS.memRatio ? 'PASS' : 'FAIL';
    goals.push(`${verdict} memory per agent at N=${r.n} (steady, after ${f0(r.steadyS)} s idle): ${f0(perAgent(r))} KB vs ${f0(perBare(r))} KB per bare stream: x${ratio.toFixed(2)} (goal <= x${GOALS.memRatio}; x${(perAgentBurst(r) / perBare(r)).toFixed(2)} right after the joins; daemons connected ${opt.connect === 'later' ? 'after all joins, up to date' : 'right after their joins'}: ${r.views.withView} of ${r.n} long-lived connections had carried a whole view, at most ${r.views.maxViewPeers} peers)`);
  }
  for (const r of results) {
    if (!r.herd) continue;
    goals.push(`${r.herd.missing === 0 && r.herd.allBackS <= GOALS.herdS ? 'PASS' : 'FAIL'} restart herd at N=${r.n}: every agent checked in again ${f1(r.herd.allBackS)} s after the restart${r.herd.missing ? ` (${r.herd.missing} never did)` : ''} (goal <= ${GOALS.herdS} s: x${(r.herd.allBackS / GOALS.herdS).toFixed(2)})`);
  }
  const drops = results.reduce((x, r) => x + r.dropped, 0);
  goals.push(`${drops === GOALS.dropped ? 'PASS' : 'FAIL'} Watch streams dropped by the controller during the run: ${drops} (goal 0)`);
  out.push('', 'goals:', ...goals, '');
  out.push(`Reproduce: npm run bench:converge${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`, '');
  out.push('----- 8< ----- README snippet (markdown) -----', '');
  out.push(`Measured with \`npm run bench:converge\` on ${machine} (load average ${load}).`, '');
  out.push(mdTable(conv), '', mdTable(mem), '', mdTable(where), '', mdTable(herdRows), '');
  if (ci.length > 1) out.push(mdTable(ci), '');
  out.push(...goals.map((g) => `- ${g}`), '', '----- >8 -----', '');
  process.stdout.write(out.join('\n'));
}

async function main(): Promise<void> {
  const sizes = (opt.agents ?? opt.sizes).split(',').map((s) => Number(s.trim()));
  const reps = Number(opt.reps);
  const seconds = Number(opt['checkin-seconds']);
  const batch = Number(opt.batch);
  const settingsReps = Number(opt['settings-reps']);
  if (sizes.some((s) => !Number.isInteger(s) || s < 1 || s > 60_000) || !(Number(opt['steady-seconds']) >= 0) || !(reps >= 1) || !(seconds >= 0) || !(batch >= 1) || !(settingsReps >= 0) || !['joined', 'later'].includes(opt.connect)) {
    throw new Error('usage: node bench/converge.ts [--agents 100,1000,5000] [--reps 5] [--checkin-seconds 4] [--batch 50] [--settings-reps 1] [--steady-seconds 300] [--workers W] [--connect joined|later] [--handshakes] [--no-herd] [--store sqlite|postgres] [--profile-controller DIR] [--heap-snapshot DIR] [--keep]');
  }
  const t0 = abs();
  const load0 = loadavg()[0]!;
  const results: SizeResult[] = [];
  const failed: string[] = [];
  for (const [i, n] of sizes.entries()) {
    onInterrupted = () => {
      if (results.length) report(results, reps, (abs() - t0) / 1000, `${load0.toFixed(1)} at start, ${loadavg()[0]!.toFixed(1)} when stopped`);
      process.stdout.write(`FAIL N=${n} did not complete: the run was stopped (signal) while it ran\n`);
    };
    try {
      results.push(await runSize(n, reps, settingsReps, seconds, batch, i));
    } catch (err) {
      log(`N=${n} did not complete: ${(err as Error).message}`);
      failed.push(`FAIL N=${n} did not complete: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  onInterrupted = undefined;
  if (results.length) report(results, reps, (abs() - t0) / 1000, `${load0.toFixed(1)} at start, ${loadavg()[0]!.toFixed(1)} at end`);
  for (const f of failed) process.stdout.write(`${f}\n`);
  process.exit(0); // grpc-js keeps timers alive after the clients close
}

await main();
