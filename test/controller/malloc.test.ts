// Issue 15: the controller runs with a fixed malloc mmap threshold (controller/malloc.ts): the
// setting is added to GLIBC_TUNABLES, an operator's own threshold is kept, and the real
// `meshctl server` process (same pid as spawned: it replaces itself) runs with it.
import t from 'tap';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MALLOC_TUNABLE, V8_FLAG, tunedEnv, tunedExecArgv } from '../../src/controller/malloc.ts';
import { startServer } from '../helpers/server-process.ts';
import pkgConfig from '../../pkg.config.json' with { type: 'json' };

t.setTimeout(90_000);

t.test('tunedEnv adds the threshold, keeps other tunables, and leaves an operator\'s threshold alone', async (t) => {
  t.same(tunedEnv({ PATH: '/bin' }, 'linux'), { PATH: '/bin', GLIBC_TUNABLES: MALLOC_TUNABLE });
  t.same(tunedEnv({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' }, 'linux'), { GLIBC_TUNABLES: `glibc.malloc.arena_max=2:${MALLOC_TUNABLE}` });
  t.equal(tunedEnv({ GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=131072' }, 'linux'), null);
  t.equal(tunedEnv({ GLIBC_TUNABLES: `glibc.malloc.arena_max=2:${MALLOC_TUNABLE}` }, 'linux'), null);
  t.equal(tunedEnv({}, 'darwin'), null);
  // a similar name is not the threshold
  t.same(tunedEnv({ GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold_max=1' }, 'linux')?.GLIBC_TUNABLES, `glibc.malloc.mmap_threshold_max=1:${MALLOC_TUNABLE}`);
});

t.test('tunedExecArgv adds the semi-space cap unless a size is given', async (t) => {
  t.same(tunedExecArgv(['--enable-source-maps']), [V8_FLAG, '--enable-source-maps']);
  t.equal(tunedExecArgv(['--max-semi-space-size=64']), null);
  t.equal(tunedExecArgv(['--max-semi-space-size', '64']), null);
  t.same(tunedExecArgv(['--max-semi-space-size-x=1']), [V8_FLAG, '--max-semi-space-size-x=1']);
  // the single executable cannot be run again with a flag: it carries the same one built in
  t.ok(pkgConfig.sea.execArgv.includes(V8_FLAG), `pkg.config.json sea.execArgv: ${JSON.stringify(pkgConfig.sea.execArgv)}`);
});

t.test('meshctl server runs with the threshold and the semi-space cap, in the process that was spawned', { skip: process.platform !== 'linux' && 'Linux only' }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'meshctl-malloc-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const s = await startServer(dir);
  t.teardown(() => s.kill9());
  const env = (await readFile(`/proc/${s.pid}/environ`, 'utf8')).split('\0');
  t.ok(env.includes(`GLIBC_TUNABLES=${MALLOC_TUNABLE}`), `GLIBC_TUNABLES in the server's environment: ${env.find((e) => e.startsWith('GLIBC_TUNABLES=')) ?? 'none'}`);
  const args = (await readFile(`/proc/${s.pid}/cmdline`, 'utf8')).split('\0');
  t.ok(args.includes(V8_FLAG), `the young generation capped: ${args.join(' ')}`);
  const exited = await s.stop();
  t.equal(exited.code, 0, 'and it still shuts down cleanly on SIGTERM');
});
