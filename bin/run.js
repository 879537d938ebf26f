#!/usr/bin/env node
// Development launcher: runs the TypeScript sources on Node >= 24 (type stripping).
// The shipped artifact is the single executable built by `npm run build` (dist/meshctl).
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(`Error (NODE_TOO_OLD): this launcher needs Node 24 or newer, found ${process.version}\nTry this: run it through npm (npm run meshctl -- ...), or build dist/meshctl with npm run build\n`);
  process.exit(1);
}
// The controller runs with its malloc setting and V8 flag (src/controller/malloc.ts), set before anything else loads.
if (process.argv[2] === 'server') await (await import('../src/controller/malloc.ts')).execTunedController();
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { main } = await import('../src/cli/main.ts');
const { COMMANDS } = await import('../src/commands/index.ts');
process.exitCode = await main(process.argv.slice(2), root, { commands: COMMANDS });
