#!/usr/bin/env node
// Makes the V8 code cache of the single executable's app script (scripts/build.js step 3): compiles
// APP as src/sea-entry.ts does, runs it once per argument list (as `meshctl ...args`, output
// discarded by the caller), then writes the script's cached data, which now holds the bytecode
// of every function those runs called. Run on the pinned runtime: V8 rejects a cache made by
// another version or with other flags (the executable then compiles from source, slower).
// Usage: node scripts/sea-train.js APP CACHE '[["--help"], ["network", "list", ...]]'
import { readFileSync, writeFileSync } from 'node:fs';
import { Script } from 'node:vm';

const [appFile, cacheFile, runsJson] = process.argv.slice(2);
const runs = JSON.parse(runsJson ?? '[]');
const script = new Script(readFileSync(appFile, 'latin1'), { filename: appFile });
const save = () => writeFileSync(cacheFile, script.createCachedData());
// A command that ends with process.exit() still leaves the cache of what ran up to there.
process.on('exit', save);
const app = script.runInThisContext();
for (const args of runs) {
  process.argv = [process.execPath, appFile, ...args];
  await app((id) => import(id), {});
  process.exitCode = undefined;
}
process.exit(0); // a command may leave handles (sockets, timers) open
