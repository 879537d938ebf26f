// Issue 9 holes in the controller, proven without the network: each test is named after the
// hole it closes.
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { copyFileSync, readFileSync } from 'node:fs';
import { acquireLock } from '../../src/controller/store/sqlite/lock.ts';
import { randomUUID } from 'node:crypto';
import { SqliteStore, DB_FILE } from '../../src/controller/store/sqlite/index.ts';
import { MIGRATIONS } from '../../src/controller/store/sqlite/migrations.ts';
import { RETENTION } from '../../src/controller/store/sqlite/admin.ts';
import { newNetwork } from '../../src/core/network.ts';
import { hashSecret } from '../../src/core/secret.ts';
import { freePort, killAllStarted, startServer } from '../helpers/server-process.ts';
import { adminFetchFor } from '../helpers/admin-fetch.ts';

// Servers start slowly on a loaded machine: the file's deadline is the sum of the tests' own.
t.setTimeout(600_000);

const REUSER = fileURLToPath(new URL('../helpers/pid-reuse-server.ts', import.meta.url));
t.teardown(killAllStarted);

/** Field 22 of /proc/<pid>/stat: the process's start time in clock ticks since boot. */
const processStartTime = (pid: number) => {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return s.slice(s.lastIndexOf(')') + 2).split(' ')[19];
};

t.test('hole 4: a lock left by a killed server whose pid is now another process\'s is taken over', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'meshctl-hole4-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const lockPath = join(dir, 'server.lock');

  // Another live process holds the pid the lock names; the lock's start time is not its start time.
  const other = spawn('sleep', ['30'], { stdio: 'ignore' });
  t.teardown(() => other.kill('SIGKILL'));
  await new Promise((r) => other.once('spawn', r));
  const otherStart = processStartTime(other.pid!);
  t.ok(otherStart, 'the start time of a running process is read from /proc');
  await writeFile(lockPath, `${other.pid} ${Number(otherStart) - 100}\n`);
  const a = await acquireLock(lockPath, dir).then((l) => l, (e: unknown) => e as Error);
  t.notOk(a instanceof Error, `a lock naming a reused pid is taken over (${a instanceof Error ? a.message : 'taken'})`);
  if (!(a instanceof Error)) await a.release();

  // The container case: the new server has the very pid the lock names (it is pid 1 every time).
  await writeFile(lockPath, `${process.pid} 1\n`);
  const b = await acquireLock(lockPath, dir).then((l) => l, (e: unknown) => e as Error);
  t.notOk(b instanceof Error, `a lock naming our own pid, from a former process, is taken over (${b instanceof Error ? b.message : 'taken'})`);

  // A live owner is still refused: the lock dies with its process, not before.
  const held = await readFile(lockPath, 'utf8');
  t.match(held, new RegExp(`^${process.pid} ${processStartTime(process.pid)}\\n$`), 'the lock names this process and its start time');
  const c = spawn(process.execPath, ['--input-type=module', '-e', `
    const { acquireLock } = await import(${JSON.stringify(new URL('../../src/controller/store/sqlite/lock.ts', import.meta.url).href)});
    try { await acquireLock(${JSON.stringify(lockPath)}, ${JSON.stringify(dir)}); console.log('GOT'); } catch (e) { console.log('REFUSED ' + e.code); }`], { stdio: ['ignore', 'pipe', 'inherit'] });
  let said = '';
  c.stdout!.on('data', (d) => (said += d));
  await new Promise((r) => c.once('exit', r));
  t.equal(said.trim(), 'REFUSED DATA_DIR_LOCKED', 'a second process is refused while the owner runs');
  if (!(b instanceof Error)) await b.release();
  t.notOk(existsSync(lockPath), 'release removes the lock');
});

t.test('hole 4: kill -9 the server, a fresh process that reuses the lock\'s pid starts cleanly', { timeout: 200_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'meshctl-hole4s-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const first = await startServer(dir, { timeoutMs: 90_000 });
  const lock = await readFile(join(dir, 'server.lock'), 'utf8');
  t.match(lock, new RegExp(`^${first.pid}\\b`), 'the running server owns the lock');
  await first.kill9();
  t.ok(existsSync(join(dir, 'server.lock')), 'kill -9 leaves the lock behind');

  const api = await freePort();
  const grpc = await freePort();
  const next = spawn(process.execPath, [REUSER, dir, 'server', '--data-dir', dir, '--api-addr', `127.0.0.1:${api}`, '--grpc-addr', `127.0.0.1:${grpc}`, '--public-host', '127.0.0.1'], { stdio: ['ignore', 'ignore', 'pipe'] });
  t.teardown(() => { if (next.exitCode === null) next.kill('SIGKILL'); });
  let stderr = '';
  next.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const deadline = Date.now() + 90_000;
  let status = 0;
  while (Date.now() < deadline && next.exitCode === null) {
    status = await adminFetchFor(dir)(`https://127.0.0.1:${api}/api/v1/networks`).then((r) => r.status, () => 0);
    if (status) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  t.match(stderr, new RegExp(`^LOCK ${next.pid} `, 'm'), 'the lock named the new process\'s own pid when it started');
  t.equal(next.exitCode, null, `the new server runs: ${stderr.slice(-600)}`);
  t.equal(status, 401, 'and its admin API answers');
  next.kill('SIGTERM');
  await new Promise((r) => next.once('exit', r));
});

t.test('hole 12: a migration that rebuilds a parent table keeps every child row, runs with foreign keys off, and keeps a .v<N>.bak', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'meshctl-hole12-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const store = await SqliteStore.open(dir);
  await store.createNetwork(newNetwork({ name: 'office', cidr: '10.10.0.0/24' }), 'test');
  await store.createKey({ network: 'office', name: 'k1', secretHash: hashSecret('secret-1'), usesRemaining: null, expiresAt: null }, 'test');
  await store.joinNode({ network: 'office', name: 'k1', secret: 'secret-1' }, { id: randomUUID(), network: 'office', name: 'n1', publicKey: 'A'.repeat(43) + '=', endpoint: null, endpointStated: false, listenPort: 51821, credentialHash: hashSecret('c') }, new Date());
  await store.addDns('office', 'printer', '10.10.0.200', 'test');
  const from = store.engine.schemaVersion();
  await store.close();
  const dbPath = join(dir, DB_FILE);
  const image = await readFile(dbPath);

  // The usual SQLite table rebuild of the parent table `networks`, as a future migration would do it.
  const rebuild = {
    version: from + 1,
    name: 'test: rebuild networks',
    sql: `
CREATE TABLE networks_new (name TEXT PRIMARY KEY, cidr TEXT NOT NULL, listen_port INTEGER NOT NULL, keepalive INTEGER NOT NULL,
  manual_approval INTEGER NOT NULL, version INTEGER NOT NULL, created_at TEXT NOT NULL, domain TEXT, dns INTEGER NOT NULL DEFAULT 1, next_address INTEGER, note TEXT);
INSERT INTO networks_new SELECT *, NULL FROM networks;
DROP TABLE networks;
ALTER TABLE networks_new RENAME TO networks;`,
  };
  (MIGRATIONS as { version: number; name: string; sql: string }[]).push(rebuild);
  t.teardown(() => { (MIGRATIONS as unknown[]).splice(MIGRATIONS.indexOf(rebuild), 1); });
  const again = await SqliteStore.open(dir);
  try {
    t.equal(again.engine.schemaVersion(), from + 1, 'the migration ran');
    t.equal((await again.listKeys('office')).length, 1, 'the key survived the rebuild of its parent table');
    t.equal((await again.listNodes('office')).length, 1, 'the node survived');
    t.same((await again.listDns('office')).map((r) => r.name).sort(), ['n1', 'printer'], 'the custom record survived');
    t.equal(again.engine.read((s) => s.get<{ v: number }>('PRAGMA foreign_keys'))?.v ?? (again.engine.read((s) => s.get<{ foreign_keys: number }>('PRAGMA foreign_keys'))?.foreign_keys), 1, 'foreign keys are on again after the migrations');
  } finally {
    await again.close();
  }
  const bak = join(dir, `${DB_FILE}.v${from}.bak`);
  t.ok(existsSync(bak), `the database before the migration is kept as ${DB_FILE}.v${from}.bak`);
  if (existsSync(bak)) t.ok(Buffer.compare(await readFile(bak), image) === 0, 'the backup is the old file, byte for byte');
});

t.test('hole 12: a migration that leaves a broken reference is refused and the file is left as it was', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'meshctl-hole12b-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const store = await SqliteStore.open(dir);
  await store.createNetwork(newNetwork({ name: 'office', cidr: '10.10.0.0/24' }), 'test');
  await store.createKey({ network: 'office', name: 'k1', secretHash: hashSecret('secret-1'), usesRemaining: null, expiresAt: null }, 'test');
  const from = store.engine.schemaVersion();
  await store.close();
  const image = await readFile(join(dir, DB_FILE));
  const bad = { version: from + 1, name: 'test: orphan keys', sql: `DELETE FROM networks;` };
  (MIGRATIONS as { version: number; name: string; sql: string }[]).push(bad);
  t.teardown(() => { (MIGRATIONS as unknown[]).splice(MIGRATIONS.indexOf(bad), 1); });
  const err = await SqliteStore.open(dir).then(async (s) => { await s.close(); return null; }, (e: unknown) => e as Error);
  t.match(err?.message ?? 'opened', /broken reference/, 'the migration is refused for the references it breaks');
  t.ok(Buffer.compare(await readFile(join(dir, DB_FILE)), image) === 0, 'the database file is unchanged');
});

t.test('hole 7: a failed flush rolls memory back; the caller\'s error is the truth', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'meshctl-hole7a-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const store = await SqliteStore.open(dir);
  t.teardown(() => store.close().catch(() => {}));
  await store.createNetwork(newNetwork({ name: 'office', cidr: '10.10.0.0/24' }), 'test');
  const before = (await store.getNetwork('office'))!;
  // Make the next flush fail for real: the database's path becomes a non-empty directory, so
  // the rename of the new image onto it fails.
  const dbPath = join(dir, DB_FILE);
  const saved = await readFile(dbPath);
  await rm(dbPath);
  await mkdir(join(dbPath, 'x'), { recursive: true });
  const err = await store.updateNetwork('office', { keepalive: 30 }, 'test').then(() => null, (e: unknown) => e as Error);
  t.ok(err, `the write that could not be made durable fails: ${err?.message}`);
  t.equal((await store.getNetwork('office'))!.keepalive, before.keepalive, 'memory no longer has the change');
  t.equal((await store.listKeys('office')).length, 0);
  // The disk works again: the next write is made, and the failed one does not ride along with it.
  await rm(dbPath, { recursive: true });
  await writeFile(dbPath, saved);
  await store.createKey({ network: 'office', name: 'k1', secretHash: hashSecret('s'), usesRemaining: 1, expiresAt: null }, 'test');
  await store.close();
  const again = await SqliteStore.open(dir);
  try {
    t.equal((await again.getNetwork('office'))!.keepalive, before.keepalive, 'the failed change is not on disk');
    t.equal((await again.listKeys('office')).length, 1, 'the later write is');
  } finally {
    await again.close();
  }
});

t.test('hole 7: a version number is never reused for different content after a crash', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'meshctl-hole7b-'));
  const crashed = await mkdtemp(join(tmpdir(), 'meshctl-hole7c-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  t.teardown(() => rm(crashed, { recursive: true, force: true }));
  const store = await SqliteStore.open(dir);
  await store.createNetwork(newNetwork({ name: 'office', cidr: '10.10.0.0/24' }), 'test');
  // A write is in memory and a check-in reads it (a node is told this version)...
  const pending = store.updateNetwork('office', { keepalive: 30 }, 'test');
  const seen = (await store.getNetwork('office'))!;
  t.equal(seen.keepalive, 30);
  // ...and the process dies before the image reaches the disk: the disk is what it was.
  copyFileSync(join(dir, DB_FILE), join(crashed, DB_FILE));
  copyFileSync(join(dir, 'server.lock'), join(crashed, 'server.lock')); // a dead owner's lock
  await pending;
  await store.close();
  const after = await SqliteStore.open(crashed);
  try {
    t.equal((await after.getNetwork('office'))!.keepalive, 20, 'the write that died is not there');
    const next = await after.updateNetwork('office', { keepalive: 40 }, 'test');
    t.not(next.version, seen.version, `version ${seen.version} (keepalive 30) is not reused for keepalive 40`);
    t.ok(next.version > seen.version, 'versions keep growing across the restart');
  } finally {
    await after.close();
  }
});

t.test('low: the store\'s read cache does not grow from misses (random node ids, 1 MB network names)', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'meshctl-memo-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const store = await SqliteStore.open(dir);
  t.teardown(() => store.close());
  await store.createNetwork(newNetwork({ name: 'office', cidr: '10.10.0.0/24' }), 'test');
  const memo = (store as unknown as { memo: Map<string, unknown> }).memo;
  for (let i = 0; i < 2000; i++) await store.getNodeById(randomUUID());
  for (let i = 0; i < 20; i++) await store.getNetwork(`${i}${'x'.repeat(1 << 20)}`);
  t.ok(memo.size <= 1, `after 2,000 unknown node ids and 20 names of 1 MB, the cache holds ${memo.size} entries`);
  t.ok(await store.getNetwork('office'), 'a hit is still served');
});

t.test('low: audit_log and removed_nodes are bounded (retention)', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'meshctl-retention-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const saved = { ...RETENTION };
  t.teardown(() => Object.assign(RETENTION, saved));
  Object.assign(RETENTION, { auditRows: 50, tombstoneRows: 20 });
  const store = await SqliteStore.open(dir);
  t.teardown(() => store.close());
  await store.createNetwork(newNetwork({ name: 'office', cidr: '10.10.0.0/24' }), 'test');
  await store.createKey({ network: 'office', name: 'k1', secretHash: hashSecret('s'), usesRemaining: null, expiresAt: null }, 'test');
  for (let i = 0; i < 60; i++) {
    const id = randomUUID();
    await store.joinNode({ network: 'office', name: 'k1', secret: 's' }, { id, network: 'office', name: `n${i}`, publicKey: `${String(i).padStart(43, 'A')}=`, endpoint: null, endpointStated: false, listenPort: 51821, credentialHash: hashSecret('c') }, new Date());
    await store.leaveNode(id);
  }
  const count = (table: string) => store.engine.read((s) => s.get<{ n: number }>(`SELECT count(*) AS n FROM ${table}`)!.n);
  t.ok(count('audit_log') <= 50, `120 joins and leaves leave ${count('audit_log')} audit rows (at most 50)`);
  t.ok(count('removed_nodes') <= 20, `and ${count('removed_nodes')} tombstones (at most 20)`);
  t.equal((await store.listAudit(1))[0]?.action, 'node.leave', 'the newest entries are the ones kept');
});
