// Issue 9 (low): a join whose reply is lost after the controller committed can be retried with
// the same token and public key, and gets the same node back, through the real join path: the
// agent's join() over real gRPC to an in-process controller whose reply to the first join(s) is
// replaced by "unreachable" after the node was made.
import t from 'tap';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { startHarness, type Harness } from '../helpers/harness.ts';
import { join, checkIn } from '../../src/agent/node.ts';
import { loadState } from '../../src/agent/state.ts';
import { keyFile, stateFile } from '../../src/agent/paths.ts';
import { publicKeyOf } from '../../src/core/wg-key.ts';
import { MeshError } from '../../src/core/errors.ts';
import { JOIN_RETRY_MS } from '../../src/core/join-retry.ts';
import type { MeshNode } from '../../src/core/types.ts';

let h: Harness;
t.before(async () => {
  h = await startHarness();
  await h.admin('POST', '/networks', { name: 'office', cidr: '10.10.0.0/24' });
});
t.teardown(() => h.stopAll());

/** The next `n` joins commit, then answer as if the reply never arrived. */
function loseReplies(n: number): { committed: string[] } {
  const api = h.ctl.nodeApi;
  const real = api.join.bind(api);
  const seen = { committed: [] as string[] };
  api.join = async (req, source) => {
    const r = await real(req, source);
    if (seen.committed.length < n) {
      seen.committed.push(r.nodeId);
      if (seen.committed.length === n) api.join = real;
      throw new MeshError('UNREACHABLE', 'the reply was lost (simulated)');
    }
    return r;
  };
  return seen;
}

const nodes = () => h.admin<MeshNode[]>('GET', '/networks/office/nodes');
const singleUse = async (name: string) => (await h.admin<{ token: string }>('POST', '/networks/office/keys', { name, uses: 1 })).token;

t.test('one lost reply: join retries by itself and gets the node the controller made', async (t) => {
  const token = await singleUse('once-a');
  const env = await h.agent();
  const lost = loseReplies(1);
  const r = await join(env, { token, name: 'n1' });
  t.equal(lost.committed.length, 1, 'the first reply was lost after the commit');
  const st = await loadState(env.configDir, 'office');
  t.equal(st.nodeId, lost.committed[0], 'the same node');
  t.equal(r.address, '10.10.0.1');
  t.same((await nodes()).map((n) => n.name), ['n1'], 'one node, not two');
  const keys = await h.admin<{ name: string; usesRemaining: number | null }[]>('GET', '/networks/office/keys');
  t.equal(keys.find((k) => k.name === 'once-a')!.usesRemaining, 0, 'the key was spent once');
  // The credential handed out by the retry works.
  const c = await checkIn(env, 'office');
  t.equal(c.network, 'office');
});

t.test('replies lost twice: join fails, keeps its key; joining again gets the same node', async (t) => {
  const token = await singleUse('once-b');
  const env = await h.agent();
  const lost = loseReplies(2);
  await t.rejects(join(env, { token, name: 'n2' }), { code: 'UNREACHABLE' });
  t.equal(lost.committed.length, 2);
  t.equal(lost.committed[0], lost.committed[1], 'the in-process retry already got the same node');
  t.notOk(existsSync(stateFile(env.configDir, 'office')), 'no state written');
  const priv = (await readFile(keyFile(env.configDir, 'office'), 'utf8')).trim();
  const r = await join(env, { token, name: 'n2' });
  const st = await loadState(env.configDir, 'office');
  t.equal(st.nodeId, lost.committed[0], 'the same node again');
  const n2 = (await nodes()).find((n) => n.name === 'n2')!;
  t.equal(n2.publicKey, publicKeyOf(priv), 'with the key made by the first try');
  t.equal(r.address, n2.address);
  t.same((await nodes()).map((n) => n.name), ['n1', 'n2']);
  const audit = await h.admin<{ action: string; target: string }[]>('GET', '/audit?network=office');
  t.equal(audit.filter((e) => e.target.startsWith('office/n2') && e.action === 'node.join').length, 1, 'one join');
  t.equal(audit.filter((e) => e.target.startsWith('office/n2') && e.action === 'node.join-retry').length, 2, 'two retries');
});

t.test('not a retry: another public key, a node that has been in contact, a wrong secret, after the window', async (t) => {
  const token = await singleUse('once-c');
  const env = await h.agent();
  await join(env, { token, name: 'n3' });
  const other = await h.agent();
  // Another key pair under the same name and token: the spent key refuses it.
  await t.rejects(join(other, { token, name: 'n3' }), { code: 'KEY_USED_UP' });
  // The node's own key, but it has checked in since: no second credential for it.
  const st = await loadState(env.configDir, 'office');
  await checkIn(env, 'office');
  const store = h.ctl.ctx.store;
  const key = { network: 'office', name: 'once-c', secret: (await import('../../src/core/join-token.ts')).decodeJoinToken(token).secret };
  const row = (await store.getNodeById(st.nodeId))!;
  const again = { id: crypto.randomUUID(), network: 'office', name: 'n3', publicKey: row.publicKey, endpoint: null, endpointStated: false, listenPort: 51821, credentialHash: 'x'.repeat(43) };
  await new Promise((r) => setTimeout(r, 5));
  store.touchNode(row.id, new Date().toISOString());
  await t.rejects(store.joinNode(key, again, new Date()), { code: 'KEY_USED_UP' }, 'in contact since its join');
  // A fresh node (no contact yet): a wrong secret, or too late, is no retry either.
  const fresh = await singleUse('once-d');
  const fkey = { network: 'office', name: 'once-d', secret: (await import('../../src/core/join-token.ts')).decodeJoinToken(fresh).secret };
  const made = await store.joinNode(fkey, { ...again, id: crypto.randomUUID(), name: 'n4', publicKey: (await import('../../src/core/wg-key.ts')).generateKeyPair().publicKey }, new Date());
  await t.rejects(store.joinNode({ ...fkey, secret: 'wrong-secret-wrong-secret' }, { ...again, name: 'n4', publicKey: made.publicKey }, new Date()), { code: 'KEY_INVALID' });
  await t.rejects(store.joinNode(fkey, { ...again, name: 'n4', publicKey: made.publicKey }, new Date(Date.now() + JOIN_RETRY_MS + 60_000)), { code: /KEY_USED_UP|KEY_EXPIRED/ }, 'after the window');
  const ok = await store.joinNode(fkey, { ...again, name: 'n4', publicKey: made.publicKey, credentialHash: 'y'.repeat(43) }, new Date());
  t.equal(ok.id, made.id, 'inside the window, with the secret: the same node');
  t.equal((await store.getNodeById(made.id))!.credentialHash, 'y'.repeat(43), 'with the new credential');
});
