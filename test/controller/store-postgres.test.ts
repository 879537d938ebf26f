// What only the PostgreSQL store has to prove: several controllers on one database. They
// migrate once when they start together, allocate addresses and spend single-use keys exactly
// once between them, and every change made on one reaches the subscribers of the others in
// version order, also across a dropped listening connection. (The behaviour both engines share
// is in store.test.ts, run against both.)
import t, { type Test } from 'tap';
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { PostgresStore } from '../../src/controller/store/postgres/index.ts';
import { MIGRATIONS, LATEST_SCHEMA } from '../../src/controller/store/postgres/migrations.ts';
import { LATEST_SCHEMA as SQLITE_LATEST } from '../../src/controller/store/sqlite/migrations.ts';
import { CHANNEL, LISTENER_APP } from '../../src/controller/store/postgres/changes.ts';
import { newNetwork } from '../../src/core/network.ts';
import { hashSecret, newSecret } from '../../src/core/secret.ts';
import { MeshError } from '../../src/core/errors.ts';
import type { Change } from '../../src/core/change.ts';
import type { NewNode, NodeRow, Store } from '../../src/controller/store/store.ts';
import type { WatchEvent } from '../../src/core/change.ts';
import { WatchHub } from '../../src/controller/node-api/watch-hub.ts';
import { ChangeHistory } from '../../src/controller/node-api/change-history.ts';
import { ViewBuilder } from '../../src/controller/node-api/view-builder.ts';
import pino from 'pino';
import { pgSkip } from '../helpers/pg-cluster.ts';
import { sharedCluster } from '../helpers/store-backends.ts';

const ACTOR = 'test';
const skip = pgSkip();

function newNode(network: string, name: string): NewNode {
  return { id: randomUUID(), network, name, publicKey: randomBytes(32).toString('base64'), endpoint: null, endpointStated: false, listenPort: 51821, credentialHash: hashSecret(newSecret()) };
}

async function createKey(store: Store, network: string, name: string, uses: number | null) {
  const secret = newSecret();
  await store.createKey({ network, name, secretHash: hashSecret(secret), usesRemaining: uses, expiresAt: null }, ACTOR);
  return { network, name, secret };
}

/** `n` controllers' stores on one fresh database, closed in teardown. */
async function controllers(tt: Test, n: number): Promise<{ url: string; stores: PostgresStore[] }> {
  const url = await (await sharedCluster()).createDatabase('multi');
  const stores = await Promise.all(Array.from({ length: n }, () => PostgresStore.open(url)));
  tt.teardown(async () => {
    for (const s of stores) await s.close().catch(() => {});
  });
  return { url, stores };
}

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function sql<T extends pg.QueryResultRow>(url: string, text: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(text, params)).rows;
  } finally {
    await c.end();
  }
}

t.test('PostgreSQL store', { skip }, async (t) => {
  t.test('its schema has as many steps as the embedded store\'s, numbered 1..N', async (t) => {
    t.equal(LATEST_SCHEMA, SQLITE_LATEST, 'a migration added to one engine needs its twin in the other');
    t.same(MIGRATIONS.map((m) => m.version), Array.from({ length: MIGRATIONS.length }, (_, i) => i + 1));
  });

  t.test('five controllers starting at once on an empty database migrate it once', async (t) => {
    const { url, stores } = await controllers(t, 5);
    t.equal(stores.length, 5);
    const rows = await sql<{ version: number }>(url, 'SELECT version FROM schema_version ORDER BY version');
    t.same(rows.map((r) => r.version), MIGRATIONS.map((m) => m.version), 'each migration recorded exactly once');
    t.equal(await stores[0]!.engine.schemaVersion(), LATEST_SCHEMA);
  });

  t.test('a database from a newer meshctl is refused, not touched', async (t) => {
    const { url, stores } = await controllers(t, 1);
    await stores[0]!.close();
    await sql(url, "INSERT INTO schema_version VALUES ($1, 'from the future', '2030-01-01T00:00:00.000Z')", [LATEST_SCHEMA + 1]);
    await t.rejects(PostgresStore.open(url), /newer than this meshctl knows/);
    t.equal((await sql<{ n: string }>(url, 'SELECT count(*) AS n FROM schema_version'))[0]!.n, String(LATEST_SCHEMA + 1));
  });

  t.test('an unreachable database is STORE_UNAVAILABLE, with the password masked', async (t) => {
    const err = await PostgresStore.open('postgres://u:hunter2@127.0.0.1:1/none').catch((e: unknown) => e);
    t.ok(err instanceof MeshError && err.code === 'STORE_UNAVAILABLE', String(err));
    t.notMatch((err as Error).message, /hunter2/);
  });

  t.test('200 concurrent joins spread over two controllers get 200 distinct addresses', async (t) => {
    const { stores: [a, b] } = await controllers(t, 2);
    await a!.createNetwork(newNetwork({ name: 'big', cidr: '10.20.0.0/16' }), ACTOR);
    const key = await createKey(a!, 'big', 'many', null);
    const joined = await Promise.all(Array.from({ length: 200 }, (_, i) => (i % 2 ? a! : b!).joinNode(key, newNode('big', `n${i}`), new Date())));
    t.equal(new Set(joined.map((n) => n.address)).size, 200, 'no address handed out twice');
    t.same(new Set(joined.map((n) => n.address)), new Set(Array.from({ length: 200 }, (_, i) => `10.20.0.${i + 1}`)), 'the 200 lowest addresses');
    t.equal((await b!.getNetwork('big'))!.version, 201, 'each join bumped the version once');
    t.equal((await a!.listNodes('big')).length, 200);
  });

  t.test('200 single-use keys, each presented on two controllers at once, admit one node each', async (t) => {
    const { stores: [a, b] } = await controllers(t, 2);
    await a!.createNetwork(newNetwork({ name: 'once', cidr: '10.30.0.0/16' }), ACTOR);
    const keys = await Promise.all(Array.from({ length: 200 }, (_, i) => createKey(b!, 'once', `k${i}`, 1)));
    const results = await Promise.allSettled(keys.flatMap((k, i) => [a!.joinNode(k, newNode('once', `a${i}`), new Date()), b!.joinNode(k, newNode('once', `b${i}`), new Date())]));
    for (let i = 0; i < keys.length; i++) {
      const pair = [results[2 * i]!, results[2 * i + 1]!];
      t.equal(pair.filter((r) => r.status === 'fulfilled').length, 1, `key k${i} admitted exactly one node`);
      const failed = pair.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      t.ok(failed && failed.reason instanceof MeshError && failed.reason.code === 'KEY_USED_UP', `the other use of k${i} was KEY_USED_UP`);
    }
    const nodes = await a!.listNodes('once');
    t.equal(nodes.length, 200);
    t.equal(new Set(nodes.map((n) => n.address)).size, 200);
  });

  t.test('changes made on one controller reach the others in version order, as small notifications', async (t) => {
    const { url, stores: [a, b, c] } = await controllers(t, 3);
    const seen: Record<string, Change[]> = { a: [], b: [], c: [] };
    a!.subscribe((ch) => seen.a!.push(ch));
    b!.subscribe((ch) => seen.b!.push(ch));
    c!.subscribe((ch) => seen.c!.push(ch));
    const payloads: string[] = [];
    const listener = new pg.Client({ connectionString: url });
    await listener.connect();
    t.teardown(() => listener.end());
    listener.on('notification', (m) => payloads.push(m.payload ?? ''));
    await listener.query(`LISTEN ${CHANNEL}`);

    await b!.createNetwork(newNetwork({ name: 'net', cidr: '10.40.0.0/24' }), ACTOR);
    const key = await createKey(c!, 'net', 'k', null);
    // writes from all three at once, interleaved
    await Promise.all([
      ...Array.from({ length: 30 }, (_, i) => [a, b, c][i % 3]!.joinNode(key, newNode('net', `n${i}`), new Date())),
      ...Array.from({ length: 10 }, (_, i) => [c, a][i % 2]!.addDns('net', `r${i}`, `10.40.0.${200 + i}`, ACTOR)),
      a!.updateNetwork('net', { keepalive: 25 }, ACTOR),
    ]);
    const last = (await a!.getNetwork('net'))!.version;
    t.equal(last, 1 + 30 + 10 + 1);
    for (const who of ['a', 'b', 'c']) {
      await waitFor(`${who} to see version ${last}`, () => seen[who]!.length === 41);
      t.same(seen[who]!.map((ch) => ch.version), Array.from({ length: 41 }, (_, i) => i + 2), `${who} saw every version once, in order`);
    }
    t.same(seen.a, seen.b, 'every controller emits the same changes');
    const joined = seen.c!.find((ch) => ch.kind === 'node-upserted');
    t.ok(joined && joined.kind === 'node-upserted' && !('credentialHash' in joined.node), 'a change read back carries no credential hash');
    await waitFor('41 notifications', () => payloads.filter((p) => p !== '*').length >= 41);
    // network:version for a change; "*" for a write nodes do not see (here the network and the key)
    t.ok(payloads.every((p) => /^net:\d+$/.test(p) || p === '*'), 'notifications carry only network:version, or "*"');
    t.ok(payloads.every((p) => p.length < 100), 'and are small');

    await c!.deleteNetwork('net', true, ACTOR);
    await waitFor('the deletion everywhere', () => ['a', 'b', 'c'].every((w) => seen[w]!.at(-1)?.kind === 'network-deleted'));
    t.equal(seen.a!.at(-1)!.version, last + 1);
  });

  t.test('point reads served from memory follow writes made on other controllers', async (t) => {
    const url = await (await sharedCluster()).createDatabase('memo');
    // a cache that never expires by itself: only notifications may clear it
    const [a, b] = [await PostgresStore.open(url), await PostgresStore.open(url, { memoMs: 3_600_000 })];
    t.teardown(async () => {
      await a.close();
      await b.close();
    });
    await a.createNetwork(newNetwork({ name: 'memo', cidr: '10.60.0.0/24' }), ACTOR);
    const key = await createKey(a, 'memo', 'k', null);
    const node = await a.joinNode(key, newNode('memo', 'n1'), new Date());
    t.equal((await b.getNetwork('memo'))!.version, 2, 'B read the network (and keeps it)');
    t.equal((await b.getNodeById(node.id))!.listenPort, 51821, 'and the node');
    // a change nodes see: B's listeners already read the new state
    const readInListener: [number, number][] = [];
    b.subscribe((c) => void b.getNetwork(c.network).then((n) => readInListener.push([c.version, n?.version ?? -1])));
    await a.updateNetwork('memo', { keepalive: 33 }, ACTOR);
    await waitFor('B to hear of the change', () => readInListener.some(([v]) => v === 3));
    t.same(readInListener.find(([v]) => v === 3), [3, 3], 'a listener on B reading the network gets the version of the change it was told of');
    await a.updateNode(node.id, { listenPort: 40000 });
    await waitFor('B to read the node anew', async () => (await b.getNodeById(node.id))!.listenPort === 40000, 5000);
    // a write nodes do not see (no version): "*" clears B's reads too
    await a.updateNetwork('memo', { manualApproval: true }, ACTOR);
    await waitFor('B to read the setting anew', async () => (await b.getNetwork('memo'))!.manualApproval, 5000);
    // a deleted node is not served from memory
    await a.deleteNode('memo', 'n1', ACTOR);
    await waitFor('B to forget the node', async () => (await b.getNodeById(node.id)) === undefined, 5000);
  });

  t.test('a controller whose listening connection drops resyncs from the versions it last saw', async (t) => {
    const { url, stores: [a, b] } = await controllers(t, 2);
    const seen: number[] = [];
    b!.subscribe((ch) => seen.push(ch.version));
    await a!.createNetwork(newNetwork({ name: 'drop', cidr: '10.50.0.0/24' }), ACTOR);
    const key = await createKey(a!, 'drop', 'k', null);
    for (let i = 0; i < 5; i++) await a!.joinNode(key, newNode('drop', `before${i}`), new Date());
    await waitFor('b to see the first five', () => seen.length === 5);

    // the server ends b's listening session, as a network failure or a restart would
    const killed = await sql<{ ok: boolean }>(url, 'SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()', [LISTENER_APP]);
    t.equal(killed.length, 2, 'both controllers had one listening session');
    await Promise.all(Array.from({ length: 20 }, (_, i) => a!.joinNode(key, newNode('drop', `during${i}`), new Date())));
    await waitFor('b to catch up', () => seen.length === 25);
    t.same(seen, Array.from({ length: 25 }, (_, i) => i + 2), 'nothing lost, nothing twice, in order');
    await waitFor('b to listen again', () => b!.feed.connects === 2);
    await a!.addDns('drop', 'after', '10.50.0.99', ACTOR);
    await waitFor('b to see a change made after the reconnect', () => seen.length === 26);
  });

  t.test('a network deleted and created again while a controller was not listening: it serves no stale state after', async (t) => {
    const url = await (await sharedCluster()).createDatabase('again');
    const [a, b] = [await PostgresStore.open(url), await PostgresStore.open(url)];
    const views = new ViewBuilder(b);
    const hub = new WatchHub(b, views, new ChangeHistory(b), pino({ level: 'silent' }));
    t.teardown(async () => {
      hub.close();
      await a.close();
      await b.close();
    });
    const seen: Change[] = [];
    b.subscribe((c) => seen.push(c));
    await a.createNetwork(newNetwork({ name: 'again', cidr: '10.70.0.0/24' }), ACTOR);
    const key = await createKey(a, 'again', 'k', null);
    const old: NodeRow[] = [];
    for (let i = 0; i < 3; i++) old.push(await a.joinNode(key, newNode('again', `old${i}`), new Date()));
    await waitFor('B to follow the first network', () => seen.at(-1)?.version === 4);
    t.equal((await views.membersOf('again')).rows.length, 3, 'B has read its members');
    // old0 watches B
    const ended: MeshError[] = [];
    const events: WatchEvent[] = [];
    hub.add((await b.getNodeById(old[0]!.id))!, 4, 4, { send: (ev) => events.push(ev), end: (e) => ended.push(e) });

    // B stops listening (and its sweep finds the network gone or new only after A is done)
    b.feed.dropListener(60_000);
    const sweep = b.feed.sweep.bind(b.feed);
    let sweeping = false;
    b.feed.sweep = async () => { if (sweeping) await sweep(); };
    await a.deleteNetwork('again', true, ACTOR);
    await new Promise((r) => setTimeout(r, 5)); // another creation time
    await a.createNetwork(newNetwork({ name: 'again', cidr: '10.71.0.0/24' }), ACTOR);
    const key2 = await createKey(a, 'again', 'k', null);
    const fresh: NodeRow[] = [];
    for (let i = 0; i < 5; i++) fresh.push(await a.joinNode(key2, newNode('again', `new${i}`), new Date()));
    t.equal((await a.getNetwork('again'))!.version, 6, 'the new network is past the version B last saw (4)');

    // B listens again (and sweeps): the first thing it emits for the network is a resync
    const before = seen.length;
    sweeping = true;
    b.feed.releaseListener();
    await waitFor('B to listen again', () => b.feed.connects >= 2);
    await b.feed.sweep();
    await waitFor('B to resync', () => seen.length > before);
    t.same(seen.slice(before).map((c) => [c.kind, c.version]), [['resync', 6]], 'one resync at the new network\'s version, no change of it applied on top of the old');
    t.equal((await b.getNetwork('again'))!.cidr, '10.71.0.0/24', 'B reads the new network');
    t.same((await views.membersOf('again')).rows.map((r) => r.name).sort(), fresh.map((n) => n.name), 'and its members, none of the old');
    await waitFor('the old node\'s stream to end', () => ended.length === 1);
    t.equal(ended[0]!.code, 'NODE_REMOVED', 'a stream of a node of the old network is told it was removed');
    t.equal(events.length, 0, 'and got no view of the new network');

    // a node of the new network watching B gets its view, and later changes follow as deltas
    const ev2: WatchEvent[] = [];
    hub.add((await b.getNodeById(fresh[0]!.id))!, 0, 6, { send: (ev) => ev2.push(ev), end: () => {} });
    await waitFor('a snapshot', () => ev2.length === 1);
    const snap = ev2[0]!;
    t.ok('snapshot' in snap && snap.snapshot.peers.length === 4 && snap.snapshot.network.cidr === '10.71.0.0/24', 'its snapshot is of the new network');
    await a.joinNode(key2, newNode('again', 'new5'), new Date());
    await waitFor('the next change', () => ev2.length === 2);
    t.ok('delta' in ev2[1]! && ev2[1]!.version === 7, 'the next change arrives as a delta, version 7');
  });

  t.test('contact times written on one controller are seen by another', async (t) => {
    const { stores: [a, b] } = await controllers(t, 2);
    await a!.createNetwork(newNetwork({ name: 'soft', cidr: '10.60.0.0/24' }), ACTOR);
    const key = await createKey(a!, 'soft', 'k', null);
    const n = await a!.joinNode(key, newNode('soft', 'x'), new Date());
    const at = new Date(Date.now() + 60_000).toISOString();
    a!.touchNode(n.id, at);
    t.equal((await a!.getNodeById(n.id))!.lastCheckin, at, 'at once on the controller that was contacted');
    await a!.close();
    t.equal((await b!.getNodeById(n.id))!.lastCheckin, at, 'written out by close, and read by the other');
  });
});
