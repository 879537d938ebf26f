// Entry of the single executable (dist/meshctl): bundled by scripts/build.js, run by Node's SEA.
// The oclif root is the executable's own directory: it exists, and nothing is read from it
// (the command table and package metadata are compiled in).
import { userInfo } from 'node:os';
import { dirname } from 'node:path';

// oclif reads os.homedir() (clean-stack) and os.userInfo().shell while loading; both throw when
// the user has no passwd entry and HOME/SHELL are unset (chroots, minimal images, arbitrary
// container UIDs). Give them neutral values instead of failing every command.
try {
  userInfo();
} catch {
  process.env.HOME ??= '/';
  process.env.SHELL ??= '/bin/sh';
}

const { main } = await import('./cli/main.ts');
process.exitCode = await main(process.argv.slice(2), dirname(process.execPath));
