// `meshctl server migrate-store` (issue 13): an embedded store copied into an empty PostgreSQL
// database comes out the same through the Store interface (versions, key uses, credentials,
// tokens, audit), allocation continues after the copied addresses, a non-empty target and a
// data directory a server holds are refused.
import t from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { SqliteStore } from '../../src/controller/store/sqlite/index.ts';
import { PostgresStore } from '../../src/controller/store/postgres/index.ts';
import { migrateStore } from '../../src/controller/store/migrate.ts';
import { newNetwork } from '../../src/core/network.ts';
import { hashSecret, newSecret } from '../../src/core/secret.ts';
import { MeshError } from '../../src/core/errors.ts';
import type { NewNode, Store } from '../../src/controller/store/store.ts';
import { pgSkip } from '../helpers/pg-cluster.ts';
import { sharedCluster } from '../helpers/store-backends.ts';
import { cli } from '../helpers/cli.ts';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const HOLDER = fileURLToPath(new URL('../helpers/lock-holder.ts', import.meta.url));

const node = (network: string, name: string): NewNode => ({
  id: randomUUID(), network, name, publicKey: randomBytes(32).toString('base64'), endpoint: null, endpointStated: false, listenPort: 51821, credentialHash: hashSecret(newSecret()),
});

/** Everything the Store interface shows, for comparing two stores. */
async function everything(s: Store) {
  const nets = await s.listNetworks();
  const per = await Promise.all(nets.map(async (n) => ({ keys: await s.listKeys(n.name), dns: await s.listDns(n.name) })));
  return { nets, per, nodes: await s.listNodes(), audit: await s.listAudit(1000) };
}

async function populated(t: { teardown(fn: () => unknown): void }): Promise<{ dir: string; removedId: string; secret: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'meshctl-migrate-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const s = await SqliteStore.open(dir);
  try {
    await s.createNetwork(newNetwork({ name: 'office', cidr: '10.10.0.0/24' }), 'admin');
    await s.createNetwork({ ...newNetwork({ name: 'lab', cidr: '10.20.0.0/24', keepalive: 0 }), manualApproval: true }, 'admin');
    const secret = newSecret();
    await s.createKey({ network: 'office', name: 'k', secretHash: hashSecret(secret), usesRemaining: 10, expiresAt: null }, 'admin');
    await s.createKey({ network: 'lab', name: 'once', secretHash: hashSecret(secret), usesRemaining: 1, expiresAt: '2099-01-01T00:00:00.000Z' }, 'admin');
    const joined = [];
    for (let i = 0; i < 5; i++) joined.push(await s.joinNode({ network: 'office', name: 'k', secret }, node('office', `n${i}`), new Date()));
    await s.joinNode({ network: 'lab', name: 'once', secret }, node('lab', 'pending'), new Date());
    await s.deleteNode('office', 'n2', 'admin'); // a hole, and a tombstone
    await s.updateNode(joined[0]!.id, { endpoint: '192.0.2.1:51821', endpointStated: true });
    await s.addDns('office', 'printer', '10.10.0.200', 'admin');
    await s.revokeKey('lab', 'once', 'admin');
    await s.createAdminToken({ name: 'tok', hash: hashSecret('tok'), expiresAt: null }, 'admin');
    return { dir, removedId: joined[2]!.id, secret };
  } finally {
    await s.close();
  }
}

t.test('migrate-store', { skip: pgSkip() }, async (t) => {
  t.test('copies everything; versions, uses and credentials carry over; allocation continues', async (t) => {
    const { dir, removedId, secret } = await populated(t);
    const url = await (await sharedCluster()).createDatabase('mig');
    const r = await migrateStore(dir, url);
    t.equal(r.tables.nodes, 5);
    t.equal(r.tables.networks, 2);

    const before = await SqliteStore.open(dir);
    const want = await everything(before);
    await before.close();
    const pg = await PostgresStore.open(url);
    t.teardown(() => pg.close());
    t.same(await everything(pg), want, 'the Store interface shows the same data');
    t.equal((await pg.getAdminTokenByHash(hashSecret('tok')))?.name, 'tok', 'admin tokens carried over');
    t.equal((await pg.getRemovedNode(removedId))?.reason, 'deleted', 'tombstones carried over');
    const office = (await pg.getNetwork('office'))!;
    t.equal(office.version, want.nets.find((n) => n.name === 'office')!.version);
    const next = await pg.joinNode({ network: 'office', name: 'k', secret }, node('office', 'later'), new Date());
    t.equal(next.address, '10.10.0.3', 'the hole left by n2 is filled first');
    t.equal((await pg.getNetwork('office'))!.version, office.version + 1);
    const auditBefore = want.audit.length;
    t.equal((await pg.listAudit(1000)).length, auditBefore + 1, 'the audit log continues after the copied entries');
  });

  t.test('a non-empty target is refused and left as it was', async (t) => {
    const { dir } = await populated(t);
    const url = await (await sharedCluster()).createDatabase('mig');
    await migrateStore(dir, url);
    const err = await migrateStore(dir, url).catch((e: unknown) => e);
    t.ok(err instanceof MeshError && err.code === 'ALREADY_EXISTS' && /not empty/.test(err.message), String(err));
    const pg = await PostgresStore.open(url);
    t.teardown(() => pg.close());
    t.equal((await pg.listNodes()).length, 5);
  });

  t.test('a data directory a server holds is refused', async (t) => {
    const { dir } = await populated(t);
    // another process holds the data directory, as a running server does
    const holder = spawn(process.execPath, [HOLDER, dir], { stdio: ['pipe', 'pipe', 'inherit'] });
    t.teardown(() => { holder.stdin.end(); });
    const out = createInterface({ input: holder.stdout })[Symbol.asyncIterator]();
    t.equal((await out.next()).value, 'READY');
    holder.stdin.write('go\n');
    t.equal((await out.next()).value, 'GOT');
    const url = await (await sharedCluster()).createDatabase('mig');
    const err = await migrateStore(dir, url).catch((e: unknown) => e);
    t.ok(err instanceof MeshError && err.code === 'DATA_DIR_LOCKED', String(err));
  });

  t.test('the command: --json result, and a usage error for a --to that is not PostgreSQL', async (t) => {
    const { dir } = await populated(t);
    const url = await (await sharedCluster()).createDatabase('mig');
    const ok = await cli(['server', 'migrate-store', '--from', dir, '--to', url, '--json']);
    t.equal(ok.code, 0, ok.stderr);
    t.equal(JSON.parse(ok.stdout).tables.nodes, 5);
    const bad = await cli(['server', 'migrate-store', '--from', dir, '--to', 'sqlite', '--json']);
    t.equal(bad.code, 2);
    t.equal(JSON.parse(bad.stdout).error.code, 'USAGE');
  });
});
