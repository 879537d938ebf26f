// The real `meshctl server` process and its data directory: one owner at a time (a second
// server refuses to start), private file modes whatever the umask, and no key secret on disk.
import t from 'tap';
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from '../helpers/cli.ts';
import { api, freePort, killAllStarted, spawnServer, startServer } from '../helpers/server-process.ts';
import { hashSecret } from '../../src/core/secret.ts';

t.teardown(killAllStarted);

async function tempDir(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'meshctl-datadir-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const modeOf = async (p: string) => (await stat(p)).mode & 0o777;
const octal = (m: number) => '0' + m.toString(8);

/** Runs a server that is expected to fail to start; resolves to its exit code and stderr. */
async function failedStart(dataDir: string): Promise<{ code: number | null; stderr: string }> {
  const proc = spawnServer(dataDir, { api: await freePort(), grpc: await freePort() });
  let stderr = '';
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => proc.kill('SIGKILL'), 20_000);
  const code = await new Promise<number | null>((r) => proc.once('exit', (c) => r(c)));
  clearTimeout(timer);
  return { code, stderr };
}

t.test('a second server on the same data directory refuses to start, naming the first; the first keeps serving', async (t) => {
  const dir = await tempDir(t);
  t.teardown(killAllStarted);
  const first = await startServer(dir);

  const second = await failedStart(dir);
  assert.equal(second.code, 1, second.stderr);
  assert.match(second.stderr, /DATA_DIR_LOCKED/);
  assert.match(second.stderr, new RegExp(`\\(pid ${first.pid}\\)`));
  assert.match(second.stderr, /Try this:/);

  // the refused start took nothing away from the owner
  assert.equal((await readFile(join(dir, 'server.lock'), 'utf8')).split(' ')[0], String(first.pid));
  const res = await api(first, 'POST', '/networks', { name: 'still', cidr: '10.90.0.0/24' });
  assert.equal(res.status, 201);

  // a clean stop releases the lock
  assert.equal((await first.stop()).code, 0, first.stderr());
  assert.ok(!(await readdir(dir)).includes('server.lock'), 'server.lock left after a clean stop');

  // a killed owner leaves a stale lock that the next server takes over
  const killed = await startServer(dir);
  await killed.kill9();
  assert.equal((await readFile(join(dir, 'server.lock'), 'utf8')).split(' ')[0], String(killed.pid));
  const next = await startServer(dir);
  assert.equal((await readFile(join(dir, 'server.lock'), 'utf8')).split(' ')[0], String(next.pid));
  assert.equal((await (await api(next, 'GET', '/networks/still')).json() as { name: string }).name, 'still');
  await next.stop();
});

t.test('data dir 0700, meshctl.db, admin.token and private keys 0600, even under umask 000', async (t) => {
  const parent = await tempDir(t);
  t.teardown(killAllStarted);
  const fresh = join(parent, 'fresh', 'nested'); // created by the server
  const existing = join(parent, 'existing'); // made too open beforehand
  await mkdir(existing, { mode: 0o777 });
  await chmod(existing, 0o777);

  for (const dir of [fresh, existing]) {
    const srv = await startServer(dir, { umask: '000' });
    // a write replaces meshctl.db (temp file + rename): the new file must be private too
    assert.equal((await api(srv, 'POST', '/networks', { name: 'modes', cidr: '10.91.0.0/24' })).status, 201);
    const want: [string, number][] = [
      [dir, 0o700],
      [join(dir, 'meshctl.db'), 0o600],
      [join(dir, 'admin.token'), 0o600],
      [join(dir, 'server.lock'), 0o600],
      [join(dir, 'tls'), 0o700],
      [join(dir, 'tls', 'ca.key'), 0o600],
      [join(dir, 'tls', 'server.key'), 0o600],
    ];
    for (const [p, m] of want) assert.equal(octal(await modeOf(p)), octal(m), p);
    // nothing in the directory is writable by others
    for (const f of await readdir(dir, { recursive: true })) {
      const m = await modeOf(join(dir, f));
      assert.equal(m & 0o022, 0, `${f} is ${octal(m)}`);
    }
    assert.equal((await srv.stop()).code, 0, srv.stderr());
    assert.equal(octal(await modeOf(join(dir, 'meshctl.db'))), '0600', 'after the final flush at shutdown');
  }
});

t.test('keys create: neither the join token nor its secret is written to the database or the data dir', async (t) => {
  const dir = await tempDir(t);
  t.teardown(killAllStarted);
  const srv = await startServer(dir);
  const flags = ['--server', srv.url, '--data-dir', dir];
  const net = await cli(['network', 'create', 'office', '--cidr', '10.92.0.0/24', ...flags]);
  assert.equal(net.code, 0, net.stderr);
  const created = await cli(['keys', 'create', 'office', '--uses', '3', ...flags]);
  assert.equal(created.code, 0, created.stderr);
  const token = /mc1\.[A-Za-z0-9_-]+/.exec(created.stdout)?.[0];
  assert.ok(token, `no token in: ${created.stdout}`);
  const body = JSON.parse(Buffer.from(token.slice('mc1.'.length), 'base64url').toString('utf8')) as { x: string; k: string };
  const secret = body.x;
  assert.ok(secret.length >= 40, 'a 256-bit secret');

  const needles: [string, Buffer][] = [
    ['the join token', Buffer.from(token)],
    ['the key secret', Buffer.from(secret)],
    ['the key secret as raw bytes', Buffer.from(secret, 'base64url')],
    ['the token body', Buffer.from(token.slice('mc1.'.length))],
  ];
  const check = async (when: string) => {
    const db = await readFile(join(dir, 'meshctl.db'));
    // the right file: the key is there, as its hash only
    assert.ok(db.includes(Buffer.from(hashSecret(secret))), `${when}: the key's hash is not in meshctl.db`);
    assert.ok(db.includes(Buffer.from(body.k)), `${when}: the key's name is not in meshctl.db`);
    for (const f of await readdir(dir, { recursive: true })) {
      const p = join(dir, f);
      if ((await stat(p)).isDirectory()) continue;
      const bytes = await readFile(p);
      for (const [what, needle] of needles) assert.ok(!bytes.includes(needle), `${when}: ${what} is in ${f}`);
    }
    // the admin token too is stored only hashed
    assert.ok(!db.includes(Buffer.from(srv.token)), `${when}: the admin token is in meshctl.db`);
  };
  await check('after keys create'); // acknowledged, so durable
  assert.equal((await srv.stop()).code, 0, srv.stderr());
  await check('after shutdown');
});
