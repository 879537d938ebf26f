// What both parts of the single executable's application run (src/sea-cli.ts, src/sea-app.ts,
// each bundled by scripts/build.js into an asset that src/sea-entry.ts compiles with its own code
// cache). The oclif root is the executable's own directory: it exists, and nothing is read from it
// (the command table and package metadata are compiled in).
import { userInfo } from 'node:os';
import { dirname } from 'node:path';
import { CommandElsewhere, main, type Loaders } from './cli/main.ts';
import manifest from 'meshctl:oclif-manifest';

/** What src/sea-entry.ts hands the part it runs (the script's second parameter; scripts/build.js
 * wrapApp): `elsewhere` is set when the command belongs to the other part, before it ran. */
declare const __meshctl_sea: { elsewhere?: boolean } | undefined;

/** Runs meshctl with the process's arguments, the commands' metadata from the manifest made at
 * build time and `loaders` (every command id, in the command table's order): oclif imports no
 * command's module to start, list or show help; a command's own module is evaluated when it runs. */
export async function runSea(loaders: Loaders): Promise<void> {
  // oclif reads os.homedir() (clean-stack) and os.userInfo().shell while loading; both throw when
  // the user has no passwd entry and HOME/SHELL are unset (chroots, minimal images, arbitrary
  // container UIDs). Give them neutral values instead of failing every command.
  try {
    userInfo();
  } catch {
    process.env.HOME ??= '/';
    process.env.SHELL ??= '/bin/sh';
  }
  try {
    process.exitCode = await main(process.argv.slice(2), dirname(process.execPath), { manifest, loaders });
  } catch (err) {
    if (!(err instanceof CommandElsewhere) || typeof __meshctl_sea !== 'object') throw err;
    __meshctl_sea.elsewhere = true;
  }
}
