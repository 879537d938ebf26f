// Issue 3 checks 6 and 7 in the in-process harness: authorisation of the node API, and
// concurrent joins.
import t from 'tap';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join as pathJoin } from 'node:path';
import { generateKeyPair } from '../../src/core/wg-key.ts';
import { startHarness, type Harness } from '../helpers/harness.ts';
import { join, checkIn, leave } from '../../src/agent/node.ts';
import { loadState } from '../../src/agent/state.ts';
import { keyFile } from '../../src/agent/paths.ts';
import { NodeClient } from '../../src/agent/client.ts';
import { fetchPinnedCa } from '../../src/net/pinned-ca.ts';
import { decodeJoinToken } from '../../src/core/join-token.ts';
import { MeshError } from '../../src/core/errors.ts';
import type { MeshNode } from '../../src/core/types.ts';

let h: Harness;
t.before(async () => {
  h = await startHarness();
  await h.admin('POST', '/networks', { name: 'office', cidr: '10.10.0.0/24' });
  await h.admin('POST', '/networks', { name: 'other', cidr: '10.20.0.0/24' });
  await h.admin('POST', '/networks', { name: 'big', cidr: '10.100.0.0/16' });
});
t.teardown(async () => {
  await h.stopAll();
});

const token = async (network: string, body: Record<string, unknown> = {}) => (await h.admin<{ token: string }>('POST', `/networks/${network}/keys`, { uses: 'unlimited', ...body })).token;
const code = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof MeshError, `expected MeshError, got ${e}`);
    return e.code;
  }
  assert.fail('expected a failure');
};
const pub = () => generateKeyPair().publicKey;

t.test('a node can only read and change itself', async () => {
  const t = await token('office');
  const [a, b, c] = [await h.agent(), await h.agent(), await h.agent()];
  const ja = await join(a, { token: t, name: 'a' });
  await join(b, { token: t, name: 'b' });
  const jo = await join(c, { token: await token('other'), name: 'c' });
  assert.equal(ja.address, '10.10.0.1');
  assert.equal(jo.address, '10.20.0.1');
  const sa = await loadState(a.configDir, 'office');
  const sb = await loadState(b.configDir, 'office');
  // A's check-in returns A's own view, with B as a peer and nothing of network "other"
  const ca = new NodeClient(sa.server, sa.caPem, sa.credential);
  const view = (await ca.checkIn({ listenPort: 0, endpoint: '', knownVersion: 0, handshakes: [] })).view!;
  ca.close();
  assert.equal(view.self.id, sa.nodeId);
  assert.deepEqual(view.peers.map((p) => p.name), ['b']);
  // forged: A's id with B's secret, B's id with A's secret, a made-up id
  const secretOf = (cred: string) => cred.split('.')[1]!;
  for (const forged of [`${sa.nodeId}.${secretOf(sb.credential)}`, `${sb.nodeId}.${secretOf(sa.credential)}`, `00000000-0000-4000-8000-000000000000.${secretOf(sa.credential)}`, 'garbage']) {
    const cl = new NodeClient(sa.server, sa.caPem, forged);
    assert.equal(await code(cl.checkIn({ listenPort: 0, endpoint: '', knownVersion: 0, handshakes: [] })), 'UNAUTHENTICATED');
    assert.equal(await code(cl.leave()), 'UNAUTHENTICATED');
    cl.close();
  }
  // a deleted node's credential stops working: its check-in hears "removed" and takes the network down (issue 8 item 4)
  await h.admin('DELETE', '/networks/office/nodes/b');
  assert.match((await checkIn(b, 'office')).removed ?? '', /removed/);
  assert.equal(await code(checkIn(b, 'office')), 'NOT_JOINED');
  // A's leave removes A alone
  await leave(a, 'office');
  const left = await h.admin<MeshNode[]>('GET', '/networks/office/nodes');
  assert.deepEqual(left.map((n) => n.name), []);
  assert.deepEqual((await h.admin<MeshNode[]>('GET', '/networks/other/nodes')).map((n) => n.name), ['c']);
});

t.test('the controller never holds a private key; the node stores its own 0600', async () => {
  const env = await h.agent();
  await join(env, { token: await token('office'), name: 'keyholder' });
  const priv = (await readFile(keyFile(env.configDir, 'office'), 'utf8')).trim();
  const { stat } = await import('node:fs/promises');
  assert.equal((await stat(keyFile(env.configDir, 'office'))).mode & 0o777, 0o600);
  await h.ctl.ctx.store.listNodes(); // flushes nothing, but the write of the join is already durable
  const db = await readFile(pathJoin(h.dataDir, 'meshctl.db'));
  assert.equal(db.indexOf(Buffer.from(priv)), -1, 'private key found in the database');
  assert.equal(db.indexOf(Buffer.from(Buffer.from(priv, 'base64'))), -1, 'raw private key found in the database');
  const st = await loadState(env.configDir, 'office');
  assert.equal(db.indexOf(Buffer.from(st.credential.split('.')[1]!)), -1, 'node credential secret found in the database');
});

t.test('joins are refused for unknown, revoked, expired and used-up keys, and a wrong pin', async () => {
  const env = await h.agent();
  const once = await token('office', { name: 'once', uses: 1 });
  await join(await h.agent(), { token: once, name: 'first' });
  assert.equal(await code(join(env, { token: once, name: 'second' })), 'KEY_USED_UP');
  const rev = await token('office', { name: 'rev' });
  await h.admin('DELETE', '/networks/office/keys/rev');
  assert.equal(await code(join(env, { token: rev, name: 'second' })), 'KEY_REVOKED');
  const t = decodeJoinToken(rev);
  const bad = 'mc1.' + Buffer.from(JSON.stringify({ v: 1, s: t.server, n: 'office', k: 'rev', x: 'wrong-secret-wrong-secret', p: t.caPin })).toString('base64url');
  assert.equal(await code(join(env, { token: bad, name: 'second' })), 'KEY_INVALID');
  const pinned = 'mc1.' + Buffer.from(JSON.stringify({ v: 1, s: t.server, n: 'office', k: 'rev', x: t.secret, p: 'sha256:' + '0'.repeat(64) })).toString('base64url');
  assert.equal(await code(join(env, { token: pinned, name: 'second' })), 'TLS_PIN_MISMATCH');
  // a refused join leaves nothing behind
  const { existsSync } = await import('node:fs');
  assert.equal(existsSync(keyFile(env.configDir, 'office')), false);
});

// These two assert who gets in and which address, not how fast: 200 TLS handshakes and joins at
// once on a loaded 2-core machine can take longer than the agent's 15 s deadline.
const JOIN_DEADLINE_MS = 90_000;

t.test('200 concurrent joins with one unlimited key get 200 distinct addresses', async () => {
  const t = decodeJoinToken(await token('big', { name: 'many' }));
  const ca = await fetchPinnedCa(t.server, t.caPin);
  const replies = await Promise.all(
    Array.from({ length: 200 }, async (_, i) => {
      const c = new NodeClient(t.server, ca);
      try {
        return await c.join({ network: 'big', keyName: 'many', keySecret: t.secret, name: `n${i}`, publicKey: pub(), listenPort: 51821, endpoint: '' }, JOIN_DEADLINE_MS);
      } finally {
        c.close();
      }
    }),
  );
  const addrs = new Set(replies.map((r) => r.view.self.address));
  assert.equal(addrs.size, 200);
  const nodes = await h.admin<MeshNode[]>('GET', '/networks/big/nodes');
  assert.equal(nodes.length, 200);
  assert.equal(new Set(nodes.map((n) => n.address)).size, 200);
});

t.test('200 single-use keys: each admits exactly one node', async () => {
  const toks = await Promise.all(Array.from({ length: 200 }, (_, i) => token('big', { name: `single-${i}`, uses: 1 })));
  const t0 = decodeJoinToken(toks[0]!);
  const ca = await fetchPinnedCa(t0.server, t0.caPin);
  const attempt = async (tok: string, name: string) => {
    const t = decodeJoinToken(tok);
    const c = new NodeClient(t.server, ca);
    try {
      await c.join({ network: 'big', keyName: t.keyName, keySecret: t.secret, name, publicKey: pub(), listenPort: 51821, endpoint: '' }, JOIN_DEADLINE_MS);
      return 'ok';
    } catch (e) {
      return (e as MeshError).code;
    } finally {
      c.close();
    }
  };
  // each key is tried twice at once: exactly one attempt may win
  const results = await Promise.all(toks.flatMap((tok, i) => [attempt(tok, `s${i}a`), attempt(tok, `s${i}b`)]));
  for (let i = 0; i < 200; i++) {
    const pair = [results[2 * i], results[2 * i + 1]].sort();
    assert.equal(pair[0], 'KEY_USED_UP', `key ${i}: ${pair}`); // a spent key is not a failure that the join limiter counts
    assert.equal(pair[1], 'ok', `key ${i}: ${pair}`);
  }
  const nodes = await h.admin<MeshNode[]>('GET', '/networks/big/nodes');
  assert.equal(nodes.length, 400);
  assert.equal(new Set(nodes.map((n) => n.address)).size, 400);
});

t.test('a network with nodes is deleted only with force; its nodes are then told so', async () => {
  await h.admin('POST', '/networks', { name: 'doomed', cidr: '10.30.0.0/24' });
  const env = await h.agent();
  await join(env, { token: await token('doomed'), name: 'd1' });
  const res = await h.fetch(`${h.apiUrl}/api/v1/networks/doomed`, { method: 'DELETE', headers: { authorization: `Bearer ${h.token}` } });
  assert.equal(res.status, 409);
  const p = (await res.json()) as { code: string; hint: string };
  assert.equal(p.code, 'NETWORK_NOT_EMPTY');
  assert.match(p.hint, /--force/);
  await h.admin('DELETE', '/networks/doomed?force=true');
  assert.match((await checkIn(env, 'doomed')).removed ?? '', /network was deleted/);
});
