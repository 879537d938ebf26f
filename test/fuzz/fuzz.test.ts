// The CI slice of the fuzzing (test/fuzz/fuzz.ts): a fixed seed and a few thousand inputs of each
// kind, as a normal test. `npm run fuzz` runs 1,000,000.
import t from 'tap';
import { runFuzz } from './fuzz.ts';

t.setTimeout(600_000);

t.test('fuzz slice (seed 9): no crash, no 5xx, no unhandled rejection, no state change from a refused input', async (t) => {
  const r = await runFuzz({ seed: 9, runs: { names: 3000, cidrs: 3000, endpoints: 3000, expiries: 2000, 'join-tokens': 2000, 'login-tokens': 1000, rest: 2000, 'node-api': 1000 } });
  t.equal(r.total, 17_000, `inputs tried: ${JSON.stringify(r.counts)} in ${(r.ms / 1000).toFixed(1)} s`);
});
