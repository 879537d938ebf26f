// Issue 9 on the node: key files and the control socket.
import t from 'tap';
import { lstat, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyFile } from '../../src/agent/wg-keys.ts';
import { serveControl, callAgent } from '../../src/agent/control.ts';

t.test('low: the private key file is written like the state file (temp, fsync, rename): a symlink at its path is replaced, not followed', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'meshctl-key-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const target = join(dir, 'elsewhere');
  await writeFile(target, 'precious\n');
  const path = join(dir, 'office.key');
  await symlink(target, path);
  const pub = await generateKeyFile(path);
  t.match(pub, /^[A-Za-z0-9+/]{43}=$/);
  t.equal(await readFile(target, 'utf8'), 'precious\n', 'the symlink\'s target is untouched');
  t.ok((await lstat(path)).isFile(), 'the key is a file of its own');
  t.equal((await stat(path)).mode & 0o777, 0o600);
});

t.test('low: the control socket does not change the process-wide umask across an await', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'meshctl-sock-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const before = process.umask(0o022);
  t.teardown(() => { process.umask(before); });
  const seen = new Set<number>();
  let done = false;
  // What any other code running meanwhile (timers, I/O callbacks, other promises) would see.
  const read = () => {
    const m = process.umask(0o022);
    process.umask(m);
    seen.add(m);
  };
  const sample = () => {
    read();
    if (!done) setImmediate(sample);
  };
  sample();

  const path = join(dir, 'agent.sock');
  const close = await serveControl(path, { status: async () => [{ ok: true }], resync: async () => [] });
  done = true;
  t.teardown(() => close());
  t.same([...seen], [0o022], 'every other piece of code saw the umask it had');
  t.equal((await stat(path)).mode & 0o777, 0o600, 'the socket is 0600');
  t.same(await callAgent(path, 'Status', ''), [{ ok: true }], 'and answers at its path');
});
