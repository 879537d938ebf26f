// Child process for the hole 4 test: simulates a fresh process that was handed the pid of a
// killed server. It rewrites <data-dir>/server.lock so that the pid there is its own (keeping
// the rest, the dead server's start time), then runs `meshctl server ARGS…` in this process.
// argv: DATA_DIR ARGS…
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN } from './cli.ts';

const [dataDir, ...args] = process.argv.slice(2);
const lock = join(dataDir!, 'server.lock');
writeFileSync(lock, readFileSync(lock, 'utf8').replace(/^\d+/, String(process.pid)));
process.stderr.write(`LOCK ${readFileSync(lock, 'utf8').trim()}\n`);
process.argv = [process.argv[0]!, BIN, ...args];
await import(BIN);
