// Child process for the data dir lock tests: prints READY, waits for a line on stdin (so that
// several children can be started together), tries to take `<dir>/server.lock`, prints GOT or
// REFUSED <code>, then holds what it got until its stdin closes.
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { acquireLock } from '../../src/controller/store/sqlite/lock.ts';

const dir = process.argv[2]!;
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
process.stdout.write('READY\n');
await lines.next();
try {
  const lock = await acquireLock(join(dir, 'server.lock'), dir);
  process.stdout.write('GOT\n');
  while (!(await lines.next()).done);
  await lock.release();
} catch (err) {
  process.stdout.write(`REFUSED ${(err as { code?: string }).code ?? (err as Error).message}\n`);
}
process.exit(0);
