// Entry of the single executable (dist/meshctl): bundled by scripts/build.js, run by Node's SEA.
// The oclif root is the executable's own directory: it exists, and nothing is read from it
// (the command table and package metadata are compiled in).
import { userInfo } from 'node:os';
import { dirname } from 'node:path';
import pkg from '../package.json' with { type: 'json' };

const argv = process.argv.slice(2);
if (argv.length === 1 && argv[0] === '--version') {
  // What oclif prints (its config's user agent), without loading oclif: scripts and health checks
  // run `meshctl --version` often, and it should cost no more than starting Node.
  process.stdout.write(`meshctl/${pkg.version} ${process.platform}-${process.arch} node-${process.version}\n`);
  process.exit(0);
}

// The controller runs with its malloc setting (src/controller/malloc.ts): set before anything
// else loads, so that the process replaces itself at the cost of a bare Node start.
if (argv[0] === 'server') await (await import('./controller/malloc.ts')).execWithMallocTunable();

// oclif reads os.homedir() (clean-stack) and os.userInfo().shell while loading; both throw when
// the user has no passwd entry and HOME/SHELL are unset (chroots, minimal images, arbitrary
// container UIDs). Give them neutral values instead of failing every command.
try {
  userInfo();
} catch {
  process.env.HOME ??= '/';
  process.env.SHELL ??= '/bin/sh';
}

const [{ main }, { default: manifest }] = await Promise.all([import('./cli/main.ts'), import('meshctl:oclif-manifest')]);
// With the manifest made at build time, oclif imports no command's module to start, list or
// show help; a command's own module is evaluated when it runs.
process.exitCode = await main(argv, dirname(process.execPath), manifest);
