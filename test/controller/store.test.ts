// The store in process, on both engines (one suite, two backends: the embedded store on a temp
// data directory, PostgreSQL on a throwaway cluster): concurrent joins (IP allocation, key
// consumption), close + reopen, and schema migrations from every earlier version.
import t from 'tap';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, readFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import initSqlJs from 'sql.js';
import type { Database } from 'sql.js';
import { SqliteStore, DB_FILE } from '../../src/controller/store/sqlite/index.ts';
import { SqliteEngine } from '../../src/controller/store/sqlite/engine.ts';
import { MIGRATIONS, LATEST_SCHEMA } from '../../src/controller/store/sqlite/migrations.ts';
import { newNetwork } from '../../src/core/network.ts';
import { allocate } from '../../src/core/ipam.ts';
import { hashSecret, newSecret } from '../../src/core/secret.ts';
import { MeshError } from '../../src/core/errors.ts';
import { RETENTION, type NewNode, type NodeRow, type Store } from '../../src/controller/store/store.ts';
import { PostgresStore } from '../../src/controller/store/postgres/index.ts';
import { MIGRATIONS as PG_MIGRATIONS, LATEST_SCHEMA as PG_LATEST } from '../../src/controller/store/postgres/migrations.ts';
import { sharedCluster, storeBackends } from '../helpers/store-backends.ts';
import { pgSkip } from '../helpers/pg-cluster.ts';
import pg from 'pg';

const ACTOR = 'test';

type Cleanup = () => Promise<unknown>;
const cleanups = new WeakMap<object, Cleanup[]>();

/** Registers `fn` to run after test `t`, last registered first (stores close before their dir goes). */
function defer(t: { teardown(fn: () => unknown): void }, fn: Cleanup): void {
  let list = cleanups.get(t);
  if (!list) {
    const fns: Cleanup[] = [];
    cleanups.set(t, fns);
    t.teardown(async () => {
      for (const f of fns.reverse()) await f();
    });
    list = fns;
  }
  list.push(fn);
}

async function tempDir(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'meshctl-store-'));
  defer(t, () => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A well-formed node with a random id and a fake (but base64, 44-char) WireGuard public key. */
function newNode(network: string, name: string): NewNode {
  const publicKey = randomBytes(32).toString('base64');
  assert.equal(publicKey.length, 44);
  return {
    id: randomUUID(),
    network,
    name,
    publicKey,
    endpoint: null,
    endpointStated: false,
    listenPort: 51821,
    credentialHash: hashSecret(newSecret()),
  };
}

async function createKey(store: Store, network: string, name: string, uses: number | null) {
  const secret = newSecret();
  await store.createKey({ network, name, secretHash: hashSecret(secret), usesRemaining: uses, expiresAt: null }, ACTOR);
  return { network, name, secret };
}

/** SQLite's own integrity check; PostgreSQL checks its pages itself and has none to ask for. */
const integrity = async (s: Store | SqliteEngine): Promise<string[]> => {
  if (s instanceof PostgresStore) return ['ok'];
  const e = s instanceof SqliteEngine ? s : (s as SqliteStore).engine;
  return e.read((sql) => sql.all<{ integrity_check: string }>('PRAGMA integrity_check').map((r) => r.integrity_check));
};

const schemaVersionOf = async (s: Store): Promise<number> => (s instanceof PostgresStore ? s.engine.schemaVersion() : (s as SqliteStore).engine.schemaVersion());
const appliedOf = async (s: Store): Promise<number[]> => (s instanceof PostgresStore
  ? (await s.engine.read((q) => q.all<{ version: number }>('SELECT version FROM schema_version ORDER BY version'))).map((r) => r.version)
  : (s as SqliteStore).engine.read((q) => q.all<{ version: number }>('SELECT version FROM schema_version ORDER BY version')).map((r) => r.version));

const isCode = (code: string) => (e: unknown) => e instanceof MeshError && e.code === code;

function assertDistinctAddresses(nodes: NodeRow[], count: number): void {
  assert.equal(nodes.length, count);
  assert.equal(new Set(nodes.map((n) => n.address)).size, count, 'two nodes share an address');
  assert.equal(new Set(nodes.map((n) => n.id)).size, count);
}

// --- one suite, two backends: what every engine must do the same way -------------------------

for (const backend of storeBackends()) {
  t.test(`store on ${backend.name}`, { skip: backend.skip }, async (t) => {
    // group commit is the embedded engine's own knob; PostgreSQL commits each write itself
    for (const groupCommit of backend.name === 'sqlite' ? [true, false] : [true]) {
      t.test(`200 concurrent joins with one unlimited key get 200 distinct addresses${backend.name === 'sqlite' ? ` (groupCommit ${groupCommit})` : ''}`, async (t) => {
        const store = await (await backend.home(t, { groupCommit })).open();
        await store.createNetwork(newNetwork({ name: 'big', cidr: '10.20.0.0/16' }), ACTOR);
        const key = await createKey(store, 'big', 'many', null);
        const now = new Date();

        const joined = await Promise.all(Array.from({ length: 200 }, (_, i) => store.joinNode(key, newNode('big', `n${i}`), now)));
        assertDistinctAddresses(joined, 200);
        // the lowest free addresses, 10.20.0.1 .. 10.20.0.200; the embedded engine, one process
        // running transactions one at a time, even hands them out in the order the joins were made
        // (PostgreSQL serves concurrent transactions in whatever order they take the lock)
        const lowest = Array.from({ length: 200 }, (_, i) => `10.20.0.${i + 1}`);
        assert.deepEqual(new Set(joined.map((n) => n.address)), new Set(lowest));
        if (backend.name === 'sqlite') assert.deepEqual(joined.map((n) => n.address), lowest);

        const listed = await store.listNodes('big');
        assertDistinctAddresses(listed, 200);
        assert.deepEqual(new Set(listed.map((n) => n.id)), new Set(joined.map((n) => n.id)));
        assert.equal((await store.listKeys('big'))[0]!.usesRemaining, null);
        assert.equal((await store.getNetwork('big'))!.version, 1 + 200, 'each join bumps the network version once');
        assert.deepEqual(await integrity(store), ['ok']);
      });
    }

    t.test('200 single-use keys, each presented twice at once: each admits exactly one node', async (t) => {
      const store = await (await backend.home(t)).open();
      await store.createNetwork(newNetwork({ name: 'once', cidr: '10.30.0.0/16' }), ACTOR);
      const keys = await Promise.all(Array.from({ length: 200 }, (_, i) => createKey(store, 'once', `k${i}`, 1)));
      const now = new Date();

      const attempts = keys.flatMap((k, i) => [
        store.joinNode(k, newNode('once', `a${i}`), now),
        store.joinNode(k, newNode('once', `b${i}`), now),
      ]);
      const results = await Promise.allSettled(attempts);
      for (let i = 0; i < keys.length; i++) {
        const pair = [results[2 * i]!, results[2 * i + 1]!];
        const ok = pair.filter((r) => r.status === 'fulfilled');
        const failed = pair.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
        assert.equal(ok.length, 1, `key k${i} admitted ${ok.length} nodes`);
        assert.ok(isCode('KEY_USED_UP')(failed[0]!.reason), `second use of k${i} failed with ${String(failed[0]!.reason)}`);
      }
      const nodes = await store.listNodes('once');
      assertDistinctAddresses(nodes, 200);

      // a later use of any of them still fails, and changes nothing
      await assert.rejects(store.joinNode(keys[7]!, newNode('once', 'late'), now), isCode('KEY_USED_UP'));
      assert.equal((await store.listNodes('once')).length, 200);
      assert.ok((await store.listKeys('once')).every((k) => k.usesRemaining === 0));
      // a wrong secret is refused as such, not as used up
      await assert.rejects(store.joinNode({ ...keys[0]!, secret: newSecret() }, newNode('once', 'x'), now), isCode('KEY_INVALID'));
    });

    t.test('a failed join spends nothing: the key use and the address stay free', async (t) => {
      const store = await (await backend.home(t)).open();
      await store.createNetwork(newNetwork({ name: 'atom', cidr: '10.40.0.0/24' }), ACTOR);
      const key = await createKey(store, 'atom', 'two', 2);
      const now = new Date();
      const first = await store.joinNode(key, newNode('atom', 'same'), now);
      // same name: refused inside the transaction after the key check, so the use must roll back
      await assert.rejects(store.joinNode(key, newNode('atom', 'same'), now), isCode('NAME_TAKEN'));
      assert.equal((await store.listKeys('atom'))[0]!.usesRemaining, 1);
      const second = await store.joinNode(key, newNode('atom', 'other'), now);
      assert.deepEqual([first.address, second.address], ['10.40.0.1', '10.40.0.2']);
    });

    t.test('concurrent joins, close with writes in flight, reopen: everything is kept and allocation continues', async (t) => {
      const home = await backend.home(t);
      let store = await home.open();
      await store.createNetwork(newNetwork({ name: 'keep', cidr: '10.50.0.0/16' }), ACTOR);
      const key = await createKey(store, 'keep', 'k', null);
      const now = new Date();

      const first = await Promise.all(Array.from({ length: 150 }, (_, i) => store.joinNode(key, newNode('keep', `n${i}`), now)));
      // these are started but not yet acknowledged when close() is called: close must finish them
      const inFlight = Array.from({ length: 50 }, (_, i) => store.joinNode(key, newNode('keep', `m${i}`), now));
      const dns = Array.from({ length: 20 }, (_, i) => store.addDns('keep', `rec${i}`, `10.50.200.${i + 1}`, ACTOR));
      await store.close();
      const second = await Promise.all(inFlight);
      await Promise.all(dns);
      const before = [...first, ...second].sort((a, b) => a.id.localeCompare(b.id));

      store = await home.open();
      const after = (await store.listNodes('keep')).sort((a, b) => a.id.localeCompare(b.id));
      assert.deepEqual(after, before);
      assertDistinctAddresses(after, 200);
      assert.equal((await store.listDns('keep')).filter((r) => r.source === 'custom').length, 20);
      assert.deepEqual(await integrity(store), ['ok']);

      // free a few addresses in the middle, then join concurrently again: the holes are filled
      // first, and no address is handed out twice
      const gone = after.filter((n) => ['10.50.0.10', '10.50.0.11', '10.50.0.99'].includes(n.address));
      await Promise.all(gone.map((n) => store.deleteNode('keep', n.id, ACTOR)));
      const more = await Promise.all(Array.from({ length: 100 }, (_, i) => store.joinNode(key, newNode('keep', `p${i}`), now)));
      const holes = ['10.50.0.10', '10.50.0.11', '10.50.0.99'];
      const lowest: string[] = [];
      const kept = after.filter((n) => !holes.includes(n.address)).map((n) => n.address);
      for (let i = 0; i < 100; i++) lowest.push(allocate('10.50.0.0/16', [...kept, ...lowest]));
      assert.deepEqual(lowest.slice(0, 3), holes);
      assert.deepEqual(new Set(more.map((n) => n.address)), new Set(lowest));
      if (backend.name === 'sqlite') assert.deepEqual(more.slice(0, 3).map((n) => n.address), holes);
      await store.close();

      store = await home.open();
      assertDistinctAddresses(await store.listNodes('keep'), 297);
      assert.equal((await store.getNetwork('keep'))!.version, 1 + 200 + 20 + 3 + 100);
    });

    t.test('audit_log and removed_nodes are bounded (retention)', async (t) => {
      const saved = { ...RETENTION };
      t.teardown(() => Object.assign(RETENTION, saved));
      Object.assign(RETENTION, { auditRows: 50, tombstoneRows: 20 });
      const store = await (await backend.home(t)).open();
      await store.createNetwork(newNetwork({ name: 'churn', cidr: '10.41.0.0/24' }), ACTOR);
      const key = await createKey(store, 'churn', 'k1', null);
      for (let i = 0; i < 40; i++) {
        const n = await store.joinNode(key, newNode('churn', `n${i}`), new Date());
        await store.leaveNode(n.id);
      }
      // a network deleted with its nodes leaves tombstones too, in one transaction
      const last: string[] = [];
      for (let i = 0; i < 31; i++) last.push((await store.joinNode(key, newNode('churn', `m${i}`), new Date())).id);
      await store.deleteNetwork('churn', true, ACTOR);
      const count = async (table: string) => (store instanceof PostgresStore
        ? Number((await store.engine.read((q) => q.get<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)))!.n)
        : (store as SqliteStore).engine.read((s) => s.get<{ n: number }>(`SELECT count(*) AS n FROM ${table}`)!.n));
      const audit = await count('audit_log');
      const tombs = await count('removed_nodes');
      assert.ok(audit <= 50 && audit >= 45, `~150 audited writes leave ${audit} audit rows (at most 50)`);
      assert.ok(tombs === 20, `71 removed nodes leave ${tombs} tombstones (the newest 20)`);
      assert.equal((await store.listAudit(1))[0]?.action, 'network.delete --force', 'the newest entries are the ones kept');
      const kept = await Promise.all(last.map((id) => store.getRemovedNode(id)));
      assert.equal(kept.filter((r) => r?.reason === 'network-deleted').length, 20, 'the newest tombstones are the ones kept');
      // too old: gone at the next removal, however few there are
      Object.assign(RETENTION, { tombstoneDays: 0 });
      await store.createNetwork(newNetwork({ name: 'churn2', cidr: '10.42.0.0/24' }), ACTOR);
      const k2 = await createKey(store, 'churn2', 'k', null);
      const one = await store.joinNode(k2, newNode('churn2', 'x'), new Date());
      await new Promise((r) => setTimeout(r, 5));
      await store.leaveNode(one.id);
      assert.ok((await count('removed_nodes')) <= 1, 'tombstones older than tombstoneDays are dropped');
    });

    t.test('a fresh database is at the latest schema, each migration recorded once', async (t) => {
      const store = await (await backend.home(t)).open();
      const latest = backend.name === 'sqlite' ? LATEST_SCHEMA : PG_LATEST;
      const steps = backend.name === 'sqlite' ? MIGRATIONS : PG_MIGRATIONS;
      assert.equal(await schemaVersionOf(store), latest);
      assert.equal(latest, steps.at(-1)!.version);
      assert.deepEqual(steps.map((m) => m.version), Array.from({ length: steps.length }, (_, i) => i + 1), 'migrations are numbered 1..N');
      assert.deepEqual(await appliedOf(store), steps.map((m) => m.version));
      assert.equal(PG_LATEST, LATEST_SCHEMA, 'a migration added to one engine needs its twin in the other');
      assert.deepEqual(await integrity(store), ['ok']);
    });
  });
}

// --- migrations -------------------------------------------------------------------------------

const require = createRequire(import.meta.url);
const SQL = await initSqlJs({ locateFile: () => require.resolve('sql.js/dist/sql-wasm.wasm') });

/** Rows written with the raw SQL of a schema version, right after that version's migration,
 * so that every later migration is checked to carry them forward. A new migration that adds a
 * table or changes one should add a seed here; versions without one are still migrated and
 * checked, with the seeds of the versions before them. */
const SEEDS: Partial<Record<number, { write(db: Database): void; check(store: Store): Promise<void> }>> = {
  1: {
    write(db) {
      const at = '2026-01-01T00:00:00.000Z';
      db.run("INSERT INTO networks VALUES ('old', '10.60.0.0/24', 51821, 20, 0, 3, ?)", [at]);
      db.run("INSERT INTO access_keys VALUES ('old', 'k', ?, 5, NULL, 0, ?)", [hashSecret('s3cret'), at]);
      db.run("INSERT INTO nodes VALUES ('id-1', 'old', 'alpha', '10.60.0.1', ?, NULL, 0, 51821, 1, 'h', ?, NULL)", [randomBytes(32).toString('base64'), at]);
      db.run("INSERT INTO dns_records VALUES ('old', 'printer', '10.60.0.50', ?)", [at]);
      db.run("INSERT INTO admin_tokens VALUES ('tokhash', ?)", [at]);
    },
    async check(store) {
      assert.deepEqual(await store.getNetwork('old'), { name: 'old', cidr: '10.60.0.0/24', listenPort: 51821, keepalive: 20, manualApproval: false, domain: 'old.internal', dns: true, version: 3 });
      assert.equal((await store.listKeys('old'))[0]!.usesRemaining, 5);
      assert.equal((await store.getNode('old', 'alpha'))!.address, '10.60.0.1');
      assert.deepEqual((await store.listDns('old')).map((r) => r.name), ['alpha', 'printer']);
      // an admin token made before names existed keeps working, named "initial"
      assert.deepEqual(await store.getAdminTokenByHash('tokhash'), { name: 'initial', createdAt: '2026-01-01T00:00:00.000Z', expiresAt: null, revokedAt: null });
      // and the migrated store still works: the next join gets the next address
      const node = await store.joinNode({ network: 'old', name: 'k', secret: 's3cret' }, newNode('old', 'beta'), new Date());
      assert.equal(node.address, '10.60.0.2');
    },
  },
};

const SCHEMA_VERSION_DDL = 'CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)';

/** A database image at schema `version`, built with raw sql.js the way meshctl of that version did. */
function imageAt(version: number): Uint8Array {
  const db = new SQL.Database();
  try {
    db.run('PRAGMA foreign_keys = ON');
    db.run(SCHEMA_VERSION_DDL);
    for (const m of MIGRATIONS) {
      if (m.version > version) break;
      db.exec(m.sql);
      db.run('INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)', [m.version, m.name, '2026-01-01T00:00:00.000Z']);
      SEEDS[m.version]?.write(db);
    }
    return db.export();
  } finally {
    db.close();
  }
}

/** The schema (tables, indexes, triggers) as `sqlite_master` lists it, for comparison. */
const schemaOf = (e: SqliteEngine) =>
  e.read((s) => s.all<{ type: string; name: string; sql: string | null }>("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name"));

for (const from of [0, ...MIGRATIONS.map((m) => m.version)]) {
  t.test(`a database at schema ${from} opens migrated to schema ${LATEST_SCHEMA} with its data`, async (t) => {
    const dir = await tempDir(t);
    const fresh = await tempDir(t);
    await writeFile(join(dir, DB_FILE), imageAt(from), { mode: 0o600 });

    const store = await SqliteStore.open(dir);
    defer(t, () => store.close());
    assert.equal(store.engine.schemaVersion(), LATEST_SCHEMA);
    const applied = store.engine.read((s) => s.all<{ version: number }>('SELECT version FROM schema_version ORDER BY version')).map((r) => r.version);
    assert.deepEqual(applied, MIGRATIONS.map((m) => m.version), 'each migration is recorded exactly once');
    assert.deepEqual(await integrity(store), ['ok']);
    assert.deepEqual(store.engine.read((s) => s.all('PRAGMA foreign_key_check')), []);

    // migrating ends at the same schema as creating from scratch
    const ref = await SqliteEngine.open(join(fresh, DB_FILE));
    defer(t, () => ref.close());
    assert.deepEqual(schemaOf(store.engine), schemaOf(ref));

    for (const m of MIGRATIONS) if (m.version <= from) await SEEDS[m.version]?.check(store);
    await store.close();

    // the migration was persisted: opening again finds the latest schema and applies nothing
    const again = await SqliteEngine.open(join(dir, DB_FILE));
    defer(t, () => again.close());
    assert.equal(again.schemaVersion(), LATEST_SCHEMA);
    assert.equal(again.read((s) => s.get<{ n: number }>('SELECT count(*) AS n FROM schema_version'))!.n, MIGRATIONS.length);
  });
}

t.test('a database from a newer meshctl is refused, not touched', async (t) => {
  const dir = await tempDir(t);
  await mkdir(dir, { recursive: true });
  const db = new SQL.Database(imageAt(LATEST_SCHEMA));
  db.run('INSERT INTO schema_version VALUES (?, ?, ?)', [LATEST_SCHEMA + 1, 'from the future', '2030-01-01T00:00:00.000Z']);
  const image = db.export();
  db.close();
  await writeFile(join(dir, DB_FILE), image);
  await assert.rejects(SqliteStore.open(dir), (e: unknown) => e instanceof MeshError && /newer than this meshctl knows/.test(e.message));
  assert.deepEqual(new Uint8Array(await readFile(join(dir, DB_FILE))), image, 'the refused file was rewritten');
  // the lock was released: a later open is refused for the same reason, not DATA_DIR_LOCKED
  await assert.rejects(SqliteStore.open(dir), (e: unknown) => e instanceof MeshError && e.code !== 'DATA_DIR_LOCKED');
});

// --- PostgreSQL migrations, from every earlier schema -----------------------------------------

/** The rows of SEEDS, written with PostgreSQL's SQL of that schema version (checked by the same
 * SEEDS[v].check). */
const PG_SEEDS: Partial<Record<number, (c: pg.Client) => Promise<void>>> = {
  1: async (c) => {
    const at = '2026-01-01T00:00:00.000Z';
    await c.query("INSERT INTO networks VALUES ('old', '10.60.0.0/24', 51821, 20, false, 3, $1)", [at]);
    await c.query("INSERT INTO access_keys VALUES ('old', 'k', $1, 5, NULL, false, $2)", [hashSecret('s3cret'), at]);
    await c.query("INSERT INTO nodes VALUES ('id-1', 'old', 'alpha', '10.60.0.1', $1, NULL, false, 51821, true, 'h', $2, NULL)", [randomBytes(32).toString('base64'), at]);
    await c.query("INSERT INTO dns_records VALUES ('old', 'printer', '10.60.0.50', $1)", [at]);
    await c.query("INSERT INTO admin_tokens VALUES ('tokhash', $1)", [at]);
  },
};

/** Tables, columns and indexes, for comparing a migrated database with a fresh one. */
async function pgSchemaOf(url: string): Promise<unknown> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const cols = await c.query("SELECT table_name, column_name, data_type, is_nullable, column_default FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, column_name");
    const idx = await c.query("SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY tablename, indexname");
    return { cols: cols.rows, idx: idx.rows };
  } finally {
    await c.end();
  }
}

for (const from of [0, ...PG_MIGRATIONS.map((m) => m.version)]) {
  t.test(`a PostgreSQL database at schema ${from} opens migrated to schema ${PG_LATEST} with its data`, { skip: pgSkip() }, async (t) => {
    const url = await (await sharedCluster()).createDatabase('mig');
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      await c.query(SCHEMA_VERSION_DDL);
      for (const m of PG_MIGRATIONS) {
        if (m.version > from) break;
        await c.query(m.sql);
        await c.query('INSERT INTO schema_version (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, '2026-01-01T00:00:00.000Z']);
        await PG_SEEDS[m.version]?.(c);
      }
    } finally {
      await c.end();
    }
    const store = await PostgresStore.open(url);
    t.teardown(() => store.close());
    assert.equal(await store.engine.schemaVersion(), PG_LATEST);
    assert.deepEqual(await appliedOf(store), PG_MIGRATIONS.map((m) => m.version), 'each migration is recorded exactly once');
    const fresh = await (await sharedCluster()).createDatabase('fresh');
    const ref = await PostgresStore.open(fresh);
    await ref.close();
    assert.deepEqual(await pgSchemaOf(url), await pgSchemaOf(fresh), 'migrating ends at the same schema as creating from scratch');
    for (const m of PG_MIGRATIONS) if (m.version <= from) await SEEDS[m.version]?.check(store);
  });
}
