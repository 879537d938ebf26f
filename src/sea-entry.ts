// Entry of the single executable (dist/meshctl), run by Node's SEA. It answers `--version` itself
// and otherwise runs one of the two parts of the application that scripts/build.js embeds as
// assets (pkg.config.json "parts"), each with a V8 code cache made at build time by running a few
// commands: the cache then holds the bytecode of what oclif, the help and a command's start run,
// not only the top level the SEA's own code cache covers, so starting compiles little. The part
// is chosen from the first argument (src/commands/parts.ts): "cli" (src/sea-cli.ts: help and the
// admin commands, a fifth of the size) or "app" (src/sea-app.ts: everything).
import { getRawAsset } from 'node:sea';
import { Script } from 'node:vm';
import pkg from '../package.json' with { type: 'json' };
import parts from 'meshctl:sea-parts';
import { partOf, type Part } from './commands/parts.ts';

const argv = process.argv.slice(2);
if (argv.length === 1 && argv[0] === '--version') {
  // What oclif prints (its config's user agent), without loading oclif: scripts and health checks
  // run `meshctl --version` often, and it should cost no more than starting Node.
  process.stdout.write(`meshctl/${pkg.version} ${process.platform}-${process.arch} node-${process.version}\n`);
  process.exit(0);
}

// The controller runs with its malloc setting (src/controller/malloc.ts; its V8 flag is built in):
// set before anything else loads, so that the process replaces itself at the cost of a bare Node
// start.
if (argv[0] === 'server') await (await import('./controller/malloc.ts')).execTunedController();

/** Compiles and runs a part; resolves to true if it handed the command over to the other part
 * (src/sea-run.ts) before running it. */
async function runPart(part: Part): Promise<boolean> {
  const { source: sourceAsset, codeCache } = parts[part];
  // The asset is ASCII (esbuild escapes the rest), so latin1 decodes it with a plain copy.
  const source = Buffer.from(getRawAsset(sourceAsset)).toString('latin1');
  let cachedData: Buffer | undefined;
  try {
    cachedData = Buffer.from(getRawAsset(codeCache));
  } catch {
    cachedData = undefined; // built without one: V8 compiles from the source
  }
  const script = new Script(source, { filename: process.execPath, cachedData });
  if (cachedData && script.cachedDataRejected && process.env.MESHCTL_DEBUG) process.stderr.write(`meshctl: the code cache was rejected (${part}); compiling from source\n`);
  const run = script.runInThisContext() as (importBuiltin: (id: string) => Promise<unknown>, sea: { elsewhere?: boolean }) => Promise<void>;
  const sea: { elsewhere?: boolean } = {};
  await run((id) => import(id), sea);
  return sea.elsewhere === true;
}

const part = partOf(argv);
if ((await runPart(part)) && part !== 'app') await runPart('app');
