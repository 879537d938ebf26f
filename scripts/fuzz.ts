// `npm run fuzz`: 1,000,000 generated inputs (test/fuzz/fuzz.ts), or `npm run fuzz -- SEED SCALE`
// (SCALE multiplies every kind's count). Prints how many of each kind and exits non-zero on the
// first failure, with fast-check's counterexample and seed.
import { FULL, runFuzz } from '../test/fuzz/fuzz.ts';

const seed = Number(process.argv[2] ?? Date.now() % 2 ** 31);
const scale = Number(process.argv[3] ?? 1);
const runs = Object.fromEntries(Object.entries(FULL).map(([k, n]) => [k, Math.round(n * scale)])) as typeof FULL;
console.log(`meshctl fuzz: seed ${seed}, ${Object.values(runs).reduce((a, b) => a + b, 0).toLocaleString('en')} inputs planned`);
try {
  const r = await runFuzz({ seed, runs }, (s) => console.log(`  done ${s}`));
  for (const [k, n] of Object.entries(r.counts)) console.log(`${k.padEnd(12)} ${n.toLocaleString('en').padStart(10)}`);
  console.log(`${'total'.padEnd(12)} ${r.total.toLocaleString('en').padStart(10)} inputs tried, 0 failures, in ${(r.ms / 1000).toFixed(1)} s`);
} catch (err) {
  console.error(`FAILED (seed ${seed}): ${(err as Error).message}`);
  process.exitCode = 1;
}
