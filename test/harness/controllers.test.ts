// Two controllers on one PostgreSQL database, in process (issue 13): they share the CA (--ca-dir)
// and admin tokens, join tokens name both, a change made on one reaches agents watching the
// other, and agents whose controller goes away move to the other and keep following changes.
// WireGuard is simulated here; test/e2e/controllers.e2e.test.ts drives the real thing.
import t from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join as pathJoin } from 'node:path';
import { startTestController, type TestController } from '../helpers/controller.ts';
import { freePort } from '../helpers/server-process.ts';
import { pgSkip } from '../helpers/pg-cluster.ts';
import { sharedCluster } from '../helpers/store-backends.ts';
import { simHost } from '../platform/wg-sim.ts';
import { join } from '../../src/agent/node.ts';
import { startAgent, type RunningAgent } from '../../src/agent/daemon.ts';
import { loadState } from '../../src/agent/state.ts';
import { decodeJoinToken, encodeJoinToken } from '../../src/core/join-token.ts';
import { NodeClient } from '../../src/agent/client.ts';
import { fetchPinnedCa } from '../../src/net/pinned-ca.ts';
import { generateKeyPairSync } from 'node:crypto';
import pg from 'pg';

async function until(what: string, fn: () => boolean | Promise<boolean>, ms = 20_000): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    if (await fn()) return Date.now() - t0;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out after ${ms} ms waiting for: ${what}`);
}

async function admin<T>(tc: Pick<TestController, 'apiUrl' | 'token' | 'fetch'>, method: string, path: string, body?: unknown): Promise<T> {
  const res = await tc.fetch(`${tc.apiUrl}/api/v1${path}`, { method, headers: { authorization: `Bearer ${tc.token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

t.test('two controllers on PostgreSQL serve one mesh, and agents fail over', { skip: pgSkip() }, async (t) => {
  const url = await (await sharedCluster()).createDatabase('ha');
  const caDir = await mkdtemp(pathJoin(tmpdir(), 'meshctl-ca-'));
  t.teardown(() => rm(caDir, { recursive: true, force: true }));
  const [pa, pb] = [await freePort(), await freePort()];
  const hostsA = `127.0.0.1:${pa},127.0.0.1:${pb}`;
  const hostsB = `127.0.0.1:${pb},127.0.0.1:${pa}`;
  const a = await startTestController({ grpc: true, grpcPort: pa, store: url, caDir, publicHost: hostsA });
  let aUp = true;
  // closed on purpose half-way: its data directory still goes
  t.teardown(async () => { if (aUp) await a.stop(); else await rm(a.dataDir, { recursive: true, force: true }); });
  const b = await startTestController({ grpc: true, grpcPort: pb, store: url, caDir, publicHost: hostsB });
  t.teardown(() => b.stop());

  // admin tokens are shared: each controller accepts the other's
  await admin({ apiUrl: a.apiUrl, token: b.token, fetch: a.fetch }, 'POST', '/networks', { name: 'office', cidr: '10.10.0.0/24' });
  const viaA = (await admin<{ token: string }>(a, 'POST', '/networks/office/keys', { name: 'ka', uses: 'unlimited' })).token;
  const viaB = (await admin<{ token: string }>(b, 'POST', '/networks/office/keys', { name: 'kb', uses: 'unlimited' })).token;
  t.same(decodeJoinToken(viaA).servers, [`127.0.0.1:${pa}`, `127.0.0.1:${pb}`], 'a token names both controllers, its own first');
  t.same(decodeJoinToken(viaB).servers, [`127.0.0.1:${pb}`, `127.0.0.1:${pa}`]);
  t.equal(decodeJoinToken(viaA).caPin, decodeJoinToken(viaB).caPin, 'one CA for both');

  const agents: { name: string; sim: ReturnType<typeof simHost>; dir: string; agent: RunningAgent }[] = [];
  t.teardown(async () => {
    for (const n of agents) {
      await n.agent.stop();
      await rm(n.dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 }); // a worker may still be writing its state
    }
  });
  // n6's token names only A (as a token made before B existed, or before migrate-store): it
  // learns B from its check-ins
  const onlyA = encodeJoinToken({ ...decodeJoinToken(viaA), servers: [`127.0.0.1:${pa}`] });
  for (let i = 0; i < 7; i++) {
    const name = `n${i}`;
    const dir = await mkdtemp(pathJoin(tmpdir(), `meshctl-${name}-`));
    const sim = simHost({ kernel: true });
    const env = { configDir: dir, runner: sim.runner, log: (m: string) => process.env.DEBUG_HA && console.error(name, m) };
    await join(env, { token: i === 6 ? onlyA : i % 2 ? viaB : viaA, name });
    agents.push({ name, sim, dir, agent: await startAgent(env, { checkInMs: 500, rescanMs: 60_000 }) });
  }
  t.equal((await Promise.all(agents.map(async (n) => (await loadState(n.dir, 'office')).server))).filter((s) => s.endsWith(`:${pb}`)).length, 3, 'nodes joined through both controllers');
  await until('n6 to learn of B', async () => (await loadState(agents[6]!.dir, 'office')).servers?.length === 2);
  const onB = (of = agents) => of.filter((n) => n.agent.workers.get('office')?.server.endsWith(`:${pb}`)).length;
  t.equal(onB(), 3, 'and their agents watch the controller they joined through');
  const peersOf = (n: (typeof agents)[number]) => n.sim.state.peers.size;
  await until('a full mesh', () => agents.every((n) => peersOf(n) === 6));

  // a change made on A reaches the agents watching B
  await admin(a, 'DELETE', '/networks/office/nodes/n5');
  const rest = agents.filter((n) => n.name !== 'n5');
  const ms = await until('n5 gone from every other agent', () => rest.every((n) => peersOf(n) === 5));
  t.ok(ms < 1000, `a delete on A reached agents on B in ${ms} ms`);

  // A goes away: its agents move to B and follow changes made there
  await a.ctl.close();
  aUp = false;
  const moved = await until('every agent on B', () => rest.every((n) => n.agent.workers.get('office')!.connected) && onB(rest) === 6);
  t.ok(moved < 10_000, `agents moved to B within ${moved} ms`);
  await admin(b, 'DELETE', '/networks/office/nodes/n4');
  await until('n4 gone from the rest', () => rest.filter((n) => n.name !== 'n4').every((n) => peersOf(n) === 4));
  t.pass('a change made on B after the failover reached every agent');
});

t.test('node health is the same on both controllers: handshakes reported to A and to B both count', { skip: pgSkip() }, async (t) => {
  const url = await (await sharedCluster()).createDatabase('health');
  const caDir = await mkdtemp(pathJoin(tmpdir(), 'meshctl-ca-'));
  t.teardown(() => rm(caDir, { recursive: true, force: true }));
  const a = await startTestController({ grpc: true, store: url, caDir });
  t.teardown(() => a.stop());
  const b = await startTestController({ grpc: true, store: url, caDir });
  t.teardown(() => b.stop());
  await a.admin('POST', '/networks', { name: 'health', cidr: '10.20.0.0/24' });
  const token = decodeJoinToken((await a.admin<{ token: string }>('POST', '/networks/health/keys', { name: 'k', uses: 'unlimited' })).token);
  const ca = await fetchPinnedCa(token.servers[0]!, token.caPin);
  const grpcOf = (c: TestController) => `127.0.0.1:${c.ctl.grpcPort}`;
  const clients: NodeClient[] = [];
  t.teardown(() => clients.forEach((c) => c.close()));
  const joinVia = async (c: TestController, name: string) => {
    const client = new NodeClient(grpcOf(c), ca);
    clients.push(client);
    const publicKey = Buffer.from(generateKeyPairSync('x25519').publicKey.export({ format: 'jwk' }).x!, 'base64url').toString('base64');
    const r = await client.join({ network: 'health', keyName: token.keyName, keySecret: token.secret, name, publicKey, listenPort: 51821, endpoint: '' });
    return { client, publicKey, version: r.view.version };
  };
  const x = await joinVia(a, 'x');
  const r1 = await joinVia(a, 'r1');
  const r2 = await joinVia(b, 'r2');
  // x has not talked to a controller for an hour: only its peers' handshakes can make it healthy
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query("UPDATE nodes SET last_checkin = $1 WHERE name = 'x'", [new Date(Date.now() - 3_600_000).toISOString()]);
  await c.end();
  const statusOn = async (ctl: TestController) => Object.fromEntries((await ctl.admin<{ name: string; status: string }[]>('GET', '/networks/health/nodes')).map((n) => [n.name, n.status]));
  t.same([(await statusOn(a)).x, (await statusOn(b)).x], ['down', 'down'], 'x is down on both');

  // r1 (on A) and r2 (on B) each saw a handshake with x a few seconds ago: one member's word is
  // not enough, two are, whichever controller each told
  const seen = Math.floor(Date.now() / 1000) - 5;
  await r1.client.checkIn({ listenPort: 0, endpoint: '', knownVersion: 0, handshakes: [{ publicKey: x.publicKey, latestHandshake: seen, rxBytes: 0, txBytes: 0 }] });
  await r2.client.checkIn({ listenPort: 0, endpoint: '', knownVersion: 0, handshakes: [{ publicKey: x.publicKey, latestHandshake: seen, rxBytes: 0, txBytes: 0 }] });
  const ms = await until('x healthy on both controllers', async () => (await statusOn(a)).x === 'healthy' && (await statusOn(b)).x === 'healthy', 10_000);
  t.ok(ms < 5000, `x is healthy on both within ${ms} ms`);
  t.same(await statusOn(a), await statusOn(b), 'nodes list gives every node the same status on A and on B');
  t.same(await statusOn(a), { r1: 'healthy', r2: 'healthy', x: 'healthy' });

  // x is deleted on B: its shared reports go with it
  await b.admin('DELETE', '/networks/health/nodes/x');
  const left = new pg.Client({ connectionString: url });
  await left.connect();
  t.teardown(() => left.end());
  t.equal((await left.query('SELECT count(*)::int AS n FROM node_health')).rows[0].n, 0, 'no report about a deleted node is kept');
});
