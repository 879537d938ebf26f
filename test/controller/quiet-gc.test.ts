// Issue 15: once quiet after a burst, the controller asks V8 for one memory-reducing collection
// (controller/quiet-gc.ts): only after a burst, and without exposing a global `gc`.
import t from 'tap';
import pino from 'pino';
import { burstDecider, collectWhenQuiet, loadCollect } from '../../src/controller/quiet-gc.ts';

t.test('burstDecider: once per burst, in a quiet period after it; never for a steady load', async (t) => {
  const decide = burstDecider({ everyMs: 10_000, busyMs: 2_000, quiet: 0.25 });
  t.equal(decide({ activeMs: 50, utilization: 0.005 }), false, 'quiet but no burst before');
  t.equal(decide({ activeMs: 9_000, utilization: 0.9 }), false, 'a burst going on');
  t.equal(decide({ activeMs: 3_000, utilization: 0.3 }), false, 'not quiet yet');
  t.equal(decide({ activeMs: 1_200, utilization: 0.12 }), true, 'quiet after the burst');
  t.equal(decide({ activeMs: 1_200, utilization: 0.12 }), false, 'not again for the same burst');
  // a steady load is not a burst, however long it lasts
  let n = 0;
  for (let i = 0; i < 100; i++) if (decide({ activeMs: 2_000, utilization: 0.2 })) n++;
  t.equal(n, 0);
  t.equal(decide({ activeMs: 10_000, utilization: 1 }), false);
  t.equal(decide({ activeMs: 2_000, utilization: 0.2 }), true, 'back to that load after a burst');
  // after the start: the first quiet period collects the start-up's garbage, then as before
  const started = burstDecider({ everyMs: 10_000, busyMs: 2_000, quiet: 0.25 }, true);
  t.equal(started({ activeMs: 4_000, utilization: 0.4 }), false, 'not quiet yet');
  t.equal(started({ activeMs: 100, utilization: 0.01 }), true, 'the first quiet period');
  t.equal(started({ activeMs: 100, utilization: 0.01 }), false, 'and only that one');
});

t.test('loadCollect: a collection that gives a burst\'s heap back; no global gc left behind', async (t) => {
  const collect = loadCollect();
  t.ok(collect, 'V8 gives a last-resort collection on the pinned runtime');
  t.equal(typeof (globalThis as { gc?: unknown }).gc, 'undefined', 'no global gc');
  let junk: { i: number; s: string }[] = [];
  for (let i = 0; i < 1_000_000; i++) junk.push({ i, s: `x${i}` });
  junk = junk.slice(0, 10);
  const before = process.memoryUsage().heapTotal;
  collect!();
  const after = process.memoryUsage().heapTotal;
  t.ok(after < before - 20 * 2 ** 20, `V8 heap ${(before / 2 ** 20).toFixed(0)} MB -> ${(after / 2 ** 20).toFixed(0)} MB`);
  t.equal(junk.length, 10);
});

t.test('collectWhenQuiet collects once after the start and once after a burst of the event loop, not while idle', async (t) => {
  let n = 0;
  const stop = collectWhenQuiet(pino({ level: 'silent' }), { everyMs: 40, busyMs: 150, quiet: 0.5 }, () => void n++);
  t.teardown(stop);
  await new Promise((r) => setTimeout(r, 200));
  t.equal(n, 1, 'once after the start');
  const end = performance.now() + 400;
  while (performance.now() < end); // the burst: the loop busy for 400 ms
  await new Promise((r) => setTimeout(r, 300));
  t.equal(n, 2, 'collected once the loop was quiet again');
  await new Promise((r) => setTimeout(r, 300));
  t.equal(n, 2, 'and not again while idle');
  // where V8 gives no collection, nothing runs
  t.doesNotThrow(collectWhenQuiet(pino({ level: 'silent' }), undefined, null));
});
