// Issue 9 holes whose proof needs a real controller (gRPC + TLS on loopback) and agents on a
// simulated platform. Each test is named after the hole it closes.
import t, { type Test } from 'tap';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join as pathJoin } from 'node:path';
import { startHarness } from '../helpers/harness.ts';
import { decodeJoinToken, encodeJoinToken } from '../../src/core/join-token.ts';
import { checkIn, join } from '../../src/agent/node.ts';
import { loadState, saveState } from '../../src/agent/state.ts';
import { simHost } from '../platform/wg-sim.ts';
import { generateKeyPairSync } from 'node:crypto';
import { fetchPinnedCa } from '../../src/net/pinned-ca.ts';
import { NodeClient } from '../../src/agent/client.ts';

/** A fresh WireGuard public key (base64 of 32 bytes). */
const wgPublicKey = () => Buffer.from(generateKeyPairSync('x25519').publicKey.export({ format: 'jwk' }).x!, 'base64url').toString('base64');

// Servers start slowly on a loaded machine: the file's deadline is the sum of the tests' own.
t.setTimeout(600_000);

t.test('hole 1: a join token naming ../ writes and deletes nothing outside the config directory', async (t) => {
  const h = await startHarness();
  t.teardown(() => h.stopAll());
  await h.admin('POST', '/networks', { name: 'office', cidr: '10.10.0.0/24' });
  const { token } = await h.admin<{ token: string }>('POST', '/networks/office/keys', {});
  const root = await mkdtemp(pathJoin(tmpdir(), 'meshctl-hole1-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const configDir = pathJoin(root, 'a', 'b', 'etc');
  await mkdir(configDir, { recursive: true });
  // The file the attacker aims at: <root>/victim.key, outside the config dir (join overwrote it
  // with a private key, then deleted it when the controller refused the join).
  await writeFile(pathJoin(root, 'victim.key'), 'precious\n');
  // Everything under <root> but the config dir itself, recursively.
  const outside = async () => (await readdir(root, { recursive: true })).filter((f) => !f.startsWith(pathJoin('a', 'b', 'etc') + '/')).sort();
  const before = await outside();
  const good = decodeJoinToken(token);
  for (const network of ['aaaaaaaaaa/../../../../../victim', '../../../../victim', 'office/../../../../../victim', 'Office', 'a b', '']) {
    const evil = encodeJoinToken({ ...good, network });
    const err = await join({ configDir, runner: simHost({ kernel: true }).runner }, { token: evil, name: 'n1' }).then(() => null, (e: unknown) => e);
    t.ok(err, `a token naming network ${JSON.stringify(network)} is refused`);
    t.equal((err as { code?: string } | null)?.code, 'TOKEN_INVALID', `refused as TOKEN_INVALID: ${(err as Error | null)?.message}`);
    t.same(await outside(), before, 'nothing was created or deleted beside the config dir');
    t.equal(await readFile(pathJoin(root, 'victim.key'), 'utf8'), 'precious\n');
  }
  // The same token with its real network name joins (the refusal is about the name alone).
  const ok = await join({ configDir, runner: simHost({ kernel: true }).runner }, { token, name: 'n1' });
  t.equal(ok.network, 'office');
});

/** One admin call, answered as is (status and JSON body), never thrown. */
async function raw(h: Awaited<ReturnType<typeof startHarness>>, method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await h.fetch(`${h.apiUrl}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${h.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

t.test('hole 11: a key made without --uses or --expires admits one node within 24 h; unlimited and never are explicit and shown', async (t) => {
  const h = await startHarness();
  t.teardown(() => h.stopAll());
  await h.admin('POST', '/networks', { name: 'office', cidr: '10.10.0.0/24' });
  const t0 = Date.now();
  const def = await raw(h, 'POST', '/networks/office/keys', { name: 'default' });
  t.equal(def.status, 201);
  t.equal(def.body.usesRemaining, 1, 'one use by default');
  const exp = Date.parse(String(def.body.expiresAt));
  t.ok(Math.abs(exp - (t0 + 24 * 3600e3)) < 60e3, `expires in 24 h by default (${String(def.body.expiresAt)})`);
  const open = await raw(h, 'POST', '/networks/office/keys', { name: 'open', uses: 'unlimited', expires: '0' });
  t.equal(open.status, 201);
  t.equal(open.body.usesRemaining, null, '--uses unlimited');
  t.equal(open.body.expiresAt, null, '--expires 0 is never');
  const listed = await h.admin<{ name: string; usesRemaining: number | null; expiresAt: string | null }[]>('GET', '/networks/office/keys');
  t.same(listed.map((k) => [k.name, k.usesRemaining, k.expiresAt === null]), [['default', 1, false], ['open', null, true]], 'keys list shows the choice');
  for (const uses of [0, -1, 1_000_001, 'many', 1.5]) {
    t.equal((await raw(h, 'POST', '/networks/office/keys', { uses })).status, 400, `uses ${JSON.stringify(uses)} is refused`);
  }
  // The default key admits exactly one node.
  const env1 = await h.agent();
  const env2 = await h.agent();
  await join(env1, { token: String(def.body.token), name: 'n1' });
  const second = await join(env2, { token: String(def.body.token), name: 'n2' }).then(() => null, (e: unknown) => e as { code?: string });
  t.equal(second?.code, 'KEY_USED_UP', 'a second join with a default key is refused');
});

t.test('low: --expires 99999999999w and other far or malformed expiries are a 400, not a 500', async (t) => {
  const h = await startHarness();
  t.teardown(() => h.stopAll());
  await h.admin('POST', '/networks', { name: 'office', cidr: '10.10.0.0/24' });
  for (const expires of ['99999999999w', '9999999999999999999999s', '10000-01-01', '275760-09-13', '2026-13-45', '1y', '-1h', '']) {
    const r = await raw(h, 'POST', '/networks/office/keys', { expires });
    t.equal(r.status, 400, `expires ${JSON.stringify(expires)}: ${r.status} ${String(r.body.detail)}`);
    t.equal(r.body.code, 'INVALID_ARGUMENT');
  }
  t.same(await h.admin('GET', '/networks/office/keys'), [], 'no key was made');
});

t.test('hole 8: health cannot be forged: only approved members of the same network vouch, one word is not enough, and a delete clears it', async (t) => {
  const h = await startHarness();
  t.teardown(() => h.stopAll());
  await h.admin('POST', '/networks', { name: 'office', cidr: '10.10.0.0/24', manualApproval: true });
  await h.admin('POST', '/networks', { name: 'other', cidr: '10.20.0.0/24' });
  const officeKey = decodeJoinToken((await h.admin<{ token: string }>('POST', '/networks/office/keys', { uses: 'unlimited' })).token);
  const otherKey = decodeJoinToken((await h.admin<{ token: string }>('POST', '/networks/other/keys', { uses: 'unlimited' })).token);
  const ca = await fetchPinnedCa(officeKey.server, officeKey.caPin);
  const clients: NodeClient[] = [];
  t.teardown(() => { for (const c of clients) c.close(); });
  const joinAs = async (key: typeof officeKey, name: string, publicKey = wgPublicKey()) => {
    const c = new NodeClient(key.server, ca);
    clients.push(c);
    await c.join({ network: key.network, keyName: key.keyName, keySecret: key.secret, name, publicKey, listenPort: 51821, endpoint: '' });
    return { c, publicKey };
  };
  const a = await joinAs(officeKey, 'a');
  const b = await joinAs(officeKey, 'b');
  const s = await joinAs(officeKey, 'silent');
  const p = await joinAs(officeKey, 'pending');
  const x = await joinAs(otherKey, 'x');
  for (const n of ['a', 'b', 'silent']) await h.admin('POST', `/networks/office/nodes/${n}/approve`);
  // `silent` last talked to the controller ten minutes ago.
  const silentId = (await h.admin<{ id: string; name: string }[]>('GET', '/networks/office/nodes')).find((n) => n.name === 'silent')!.id;
  h.ctl.ctx.store.touchNode(silentId, new Date(Date.now() - 10 * 60_000).toISOString());
  const statusOf = async (name: string) => (await h.admin<{ name: string; status: string }[]>('GET', '/networks/office/nodes')).find((n) => n.name === name)?.status;
  const vouch = (from: { c: NodeClient }, pk: string) =>
    from.c.checkIn({ listenPort: 51821, endpoint: '', knownVersion: 0, handshakes: [{ publicKey: pk, latestHandshake: Math.floor(Date.now() / 1000), rxBytes: 1, txBytes: 1 }] });
  t.equal(await statusOf('silent'), 'down', 'a silent node is down');
  await vouch(p, s.publicKey);
  t.equal(await statusOf('silent'), 'down', 'a pending node\'s report does not count');
  await vouch(x, s.publicKey);
  t.equal(await statusOf('silent'), 'down', 'a node of another network cannot vouch');
  await vouch(a, s.publicKey);
  t.equal(await statusOf('silent'), 'down', 'one member\'s word alone does not make a silent node healthy');
  await vouch(b, s.publicKey);
  t.equal(await statusOf('silent'), 'healthy', 'two approved members vouching do');
  // Deleted, then back with the same public key: the old reports are not its health.
  await h.admin('DELETE', '/networks/office/nodes/silent');
  await joinAs(officeKey, 'silent', s.publicKey);
  await h.admin('POST', '/networks/office/nodes/silent/approve');
  const backId = (await h.admin<{ id: string; name: string }[]>('GET', '/networks/office/nodes')).find((n) => n.name === 'silent')!.id;
  h.ctl.ctx.store.touchNode(backId, new Date(Date.now() - 10 * 60_000).toISOString());
  t.equal(await statusOf('silent'), 'down', 'a delete clears what was reported about the node');
});

/** An agent environment whose simulated host the test can look at. */
async function simAgent(t: Test) {
  const dir = await mkdtemp(pathJoin(tmpdir(), 'meshctl-sec-agent-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const sim = simHost({ kernel: true });
  return { env: { configDir: dir, runner: sim.runner }, sim };
}

t.test('hole 9: a check-in keeps an endpoint WireGuard learned from a handshake, until the controller\'s endpoint for that peer changes', async (t) => {
  const h = await startHarness();
  t.teardown(() => h.stopAll());
  await h.admin('POST', '/networks', { name: 'office', cidr: '10.10.0.0/24' });
  const { token } = await h.admin<{ token: string }>('POST', '/networks/office/keys', { uses: 'unlimited' });
  const n1 = await simAgent(t);
  const n2 = await simAgent(t);
  await join(n1.env, { token, name: 'n1' });
  await join(n2.env, { token, name: 'n2' });
  await checkIn(n1.env, 'office');
  const n2pk = (await loadState(n2.env.configDir, 'office')).view!.self;
  const n2key = (await h.admin<{ name: string; publicKey: string }[]>('GET', '/networks/office/nodes')).find((n) => n.name === 'n2')!.publicKey;
  const peer = () => n1.sim.state.peers.get(n2key)!;
  t.match(peer().endpoint, /^127\.0\.0\.1:\d+$/, 'n1 has n2 at the endpoint the controller saw');
  peer().endpoint = '198.51.100.7:40000'; // n2 roamed: WireGuard learned its new address from a handshake
  await checkIn(n1.env, 'office');
  t.equal(peer().endpoint, '198.51.100.7:40000', 'a check-in does not undo the roaming');
  // The controller's endpoint for n2 changes (n2 now states one): that one is set.
  const st2 = await loadState(n2.env.configDir, 'office');
  await saveState(n2.env.configDir, { ...st2, endpoint: '192.0.2.50' });
  await checkIn(n2.env, 'office');
  await checkIn(n1.env, 'office');
  t.equal(peer().endpoint, `192.0.2.50:${n2pk.listenPort}`, 'a new endpoint from the controller replaces the learned one');
});

t.test('low: the agent never applies a view older than one it already applied', async (t) => {
  const h = await startHarness();
  t.teardown(() => h.stopAll());
  await h.admin('POST', '/networks', { name: 'office', cidr: '10.10.0.0/24' });
  const { token } = await h.admin<{ token: string }>('POST', '/networks/office/keys', { uses: 'unlimited' });
  const n1 = await simAgent(t);
  await join(n1.env, { token, name: 'n1' });
  const st = await loadState(n1.env.configDir, 'office');
  const ahead = 2 ** 52;
  await saveState(n1.env.configDir, { ...st, view: { ...st.view!, version: ahead } });
  const r = await checkIn(n1.env, 'office');
  t.ok(r.version < ahead, `the controller answered with its own, older version ${r.version}`);
  t.equal((await loadState(n1.env.configDir, 'office')).view!.version, ahead, 'the older view was not adopted');
});

/** A harness with network office and an unlimited key; `node(name)` joins a node through its
 * own NodeClient (`clients`, closed in teardown). */
async function officeNodes(t: Test) {
  const h = await startHarness();
  t.teardown(() => h.stopAll());
  await h.admin('POST', '/networks', { name: 'office', cidr: '10.10.0.0/24' });
  const key = decodeJoinToken((await h.admin<{ token: string }>('POST', '/networks/office/keys', { uses: 'unlimited' })).token);
  const ca = await fetchPinnedCa(key.server, key.caPin);
  const clients: NodeClient[] = [];
  t.teardown(() => { for (const c of clients) c.close(); });
  const node = async (name: string) => {
    const c = new NodeClient(key.server, ca);
    clients.push(c);
    const r = await c.join({ network: 'office', keyName: key.keyName, keySecret: key.secret, name, publicKey: wgPublicKey(), listenPort: 51821, endpoint: '' });
    return { c, r };
  };
  return { h, key, ca, clients, node };
}

t.test('hole 10: one node cannot force a durable write and a push per check-in, nor flood check-ins, Watch streams or credential guesses', async (t) => {
  const { h, key, ca, node } = await officeNodes(t);
  const codeOf = (p: Promise<unknown>) => p.then(() => 'ok', (e: unknown) => (e as { code?: string }).code ?? String(e));
  const version = async () => (await h.admin<{ version: number }>('GET', '/networks/office')).version;

  // Alternating endpoints: at most one durable change (and push) in the window.
  const a = await node('a');
  const v0 = await version();
  for (let i = 0; i < 12; i++) {
    await a.c.checkIn({ listenPort: 51821, endpoint: i % 2 ? '192.0.2.1' : '192.0.2.2', knownVersion: 0, handshakes: [] });
  }
  t.ok((await version()) - v0 <= 1, `12 check-ins alternating the endpoint bumped the version ${(await version()) - v0} time(s), at most once`);

  // Check-ins of one node, back to back: some are refused.
  const b = await node('b');
  const burst = await Promise.all(Array.from({ length: 60 }, () => codeOf(b.c.checkIn({ listenPort: 51821, endpoint: '', knownVersion: 0, handshakes: [] }))));
  t.ok(burst.includes('RATE_LIMITED'), `60 check-ins at once: ${burst.filter((x) => x === 'RATE_LIMITED').length} refused as RATE_LIMITED`);
  t.ok(burst.filter((x) => x === 'ok').length >= 10, 'and the first ones are served');

  // Watch streams opened by one node, back to back: some are refused.
  const w = await node('w');
  const ends = await Promise.all(Array.from({ length: 25 }, () => new Promise<string>((resolve) => {
    let cancel = () => {};
    const timer = setTimeout(() => { cancel(); resolve('open'); }, 3000);
    cancel = w.c.watch(0, () => {}, (err) => { clearTimeout(timer); resolve((err as { code?: string }).code ?? err.message); });
  })));
  t.ok(ends.includes('RATE_LIMITED'), `25 Watch streams at once: ${ends.filter((x) => x === 'RATE_LIMITED').length} refused as RATE_LIMITED`);

  // Wrong credentials from one address: past a budget, refused before they are checked.
  const guesses: string[] = [];
  for (let i = 0; i < 30; i++) {
    const g = new NodeClient(key.server, ca, `${a.r.nodeId}.${'x'.repeat(43)}`);
    guesses.push(await codeOf(g.checkIn({ listenPort: 51821, endpoint: '', knownVersion: 0, handshakes: [] })));
    g.close();
  }
  t.equal(guesses[0], 'UNAUTHENTICATED');
  t.equal(guesses.at(-1), 'RATE_LIMITED', `after ${guesses.indexOf('RATE_LIMITED')} failures, guesses from this address are refused`);
});

t.test('low: a Watch cancelled during authentication is not registered', async (t) => {
  const { h, clients, node } = await officeNodes(t);
  for (let i = 0; i < 10; i++) {
    const { c } = await node(`n${i}`);
    await c.checkIn({ listenPort: 51821, endpoint: '', knownVersion: 0, handshakes: [] }); // the connection is up
  }
  // Each stream is cancelled as soon as it is sent, while the controller is still authenticating it.
  await Promise.all(clients.map((c) => new Promise<void>((resolve) => {
    const cancel = c.watch(0, () => {}, () => resolve());
    setImmediate(cancel);
  })));
  const end = Date.now() + 3000;
  while (h.ctl.hub.size > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  t.equal(h.ctl.hub.size, 0, 'no stream is left registered');
});

t.test('low: network update --port is refused while the network has nodes (it would reach none of them)', async (t) => {
  const h = await startHarness();
  t.teardown(() => h.stopAll());
  await h.admin('POST', '/networks', { name: 'office', cidr: '10.10.0.0/24' });
  const r0 = await raw(h, 'PATCH', '/networks/office', { listenPort: 51900 });
  t.equal(r0.status, 200, 'an empty network takes a new port');
  const { token } = await h.admin<{ token: string }>('POST', '/networks/office/keys', {});
  await join(await h.agent(), { token, name: 'n1' });
  const r1 = await raw(h, 'PATCH', '/networks/office', { listenPort: 51901 });
  t.equal(r1.status, 409, `with a node it is refused: ${String(r1.body.detail)}`);
  t.equal(r1.body.code, 'NETWORK_NOT_EMPTY');
  t.equal((await h.admin<{ listenPort: number }>('GET', '/networks/office')).listenPort, 51900, 'and nothing changed');
  t.equal((await raw(h, 'PATCH', '/networks/office', { keepalive: 25 })).status, 200, 'other settings still change');
});
