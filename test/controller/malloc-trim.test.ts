// Issue 15: before each node API connection, `meshctl server` gives the C heap's free pages back
// (controller/malloc-trim.ts): malloc_trim through node:ffi on the pinned runtime, without a
// warning on stderr, within a share of the time. That a real controller does it per connection
// is checked through its metrics in metrics.test.ts.
import t from 'tap';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadMallocTrim, trimBeforeConnections, trims, trimSeconds } from '../../src/controller/malloc-trim.ts';

const MODULE = fileURLToPath(new URL('../../src/controller/malloc-trim.ts', import.meta.url));

const count = async (result: 'trimmed' | 'skipped') => (await trims.get()).values.filter((v) => v.labels.result === result).reduce((n, v) => n + v.value, 0);

t.test('a trim per connection, kept to a share of the time', async (t) => {
  let clock = 1000;
  let made = 0;
  // each trim takes 2 ms: with a 5 % share, the next may come 40 ms after it ends
  const before = trimBeforeConnections(() => {
    made++;
    clock += 2;
    return true;
  }, 0.05, () => clock);
  const [t0, s0, sec0] = [await count('trimmed'), await count('skipped'), (await trimSeconds.get()).values[0]?.value ?? 0];
  before();
  t.equal(made, 1, 'the first connection gets a trim');
  clock += 39;
  before();
  t.equal(made, 1, '39 ms after the last trim ended: too soon');
  clock += 1;
  before();
  t.equal(made, 2, '40 ms after: trimmed');
  clock += 1000;
  before();
  before();
  t.equal(made, 3, 'two connections at once after a quiet second: one trim');
  t.equal(await count('trimmed') - t0, 3);
  t.equal(await count('skipped') - s0, 2);
  t.equal(Math.round(((await trimSeconds.get()).values[0]!.value - sec0) * 1000), 6, 'the time trimming took');
});

t.test('malloc_trim gives a fragmented C heap back, and loading it prints nothing', { skip: process.platform !== 'linux' && 'Linux only' }, async (t) => {
  // A child: 60 MB in 3 KB blocks, nine in ten freed (the tenth keeps the heap from shrinking at
  // its top), then RSS before and after the trim.
  const script = `
    const { loadMallocTrim } = await import(${JSON.stringify(MODULE)});
    const rss = () => Number(/VmRSS:\\s+(\\d+)/.exec(require('node:fs').readFileSync('/proc/self/status', 'utf8'))[1]) / 1024;
    const trim = await loadMallocTrim();
    if (!trim) { console.log(JSON.stringify({ loaded: false })); process.exit(0); }
    let blocks = Array.from({ length: 20000 }, (_, i) => Buffer.allocUnsafeSlow(3000 + (i % 100)).fill(1));
    const kept = blocks.filter((_, i) => i % 10 === 0);
    blocks = null;
    globalThis.gc();
    await new Promise((r) => setTimeout(r, 100));
    globalThis.gc();
    const before = rss();
    const gave = trim();
    console.log(JSON.stringify({ loaded: true, gave, before, after: rss(), kept: kept.length }));
  `;
  const child = spawn(process.execPath, ['--expose-gc', '--input-type=commonjs', '-e', `(async () => { ${script} })()`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d));
  child.stderr.on('data', (d: Buffer) => (err += d));
  const code = await new Promise<number | null>((r) => child.on('close', r));
  t.equal(code, 0, err);
  t.equal(err, '', 'no ExperimentalWarning (or anything else) on stderr');
  const r = JSON.parse(out) as { loaded: boolean; gave: boolean; before: number; after: number };
  t.ok(r.loaded, 'node:ffi and glibc malloc_trim are there on the pinned runtime');
  t.ok(r.gave, 'malloc_trim says it gave memory back');
  t.ok(r.before - r.after >= 20, `RSS ${r.before.toFixed(0)} MB -> ${r.after.toFixed(0)} MB`);
});

t.test('no malloc_trim off Linux', async (t) => {
  t.equal(await loadMallocTrim('darwin'), null);
});
