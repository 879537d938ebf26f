// The single executable's application (dist/meshctl): everything but the start of sea-entry.ts.
// scripts/build.js bundles it into the asset that sea-entry.ts compiles with a code cache made by
// running it at build time (pkg.config.json "app"). The oclif root is the executable's own
// directory: it exists, and nothing is read from it (the command table and package metadata are
// compiled in).
import { userInfo } from 'node:os';
import { dirname } from 'node:path';
import { main } from './cli/main.ts';
import manifest from 'meshctl:oclif-manifest';

// oclif reads os.homedir() (clean-stack) and os.userInfo().shell while loading; both throw when
// the user has no passwd entry and HOME/SHELL are unset (chroots, minimal images, arbitrary
// container UIDs). Give them neutral values instead of failing every command.
try {
  userInfo();
} catch {
  process.env.HOME ??= '/';
  process.env.SHELL ??= '/bin/sh';
}

// With the manifest made at build time, oclif imports no command's module to start, list or
// show help; a command's own module is evaluated when it runs.
process.exitCode = await main(process.argv.slice(2), dirname(process.execPath), manifest);
