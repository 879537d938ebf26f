// A node a few changes behind is caught up with the deltas since its version, on the real node
// API (gRPC, TLS, the store's own change values): on a check-in that says it takes deltas, and
// on a Watch stream. What it ends up holding is the view a whole-view reply gives. A caller that
// does not take deltas (an older agent, a cron check-in) still gets a whole view.
import t from 'tap';
import assert from 'node:assert/strict';
import { generateKeyPair } from '../../src/core/wg-key.ts';
import { startHarness, type Harness } from '../helpers/harness.ts';
import { NodeClient } from '../../src/agent/client.ts';
import { fetchPinnedCa } from '../../src/net/pinned-ca.ts';
import { decodeJoinToken } from '../../src/core/join-token.ts';
import { applyDeltas, applyDelta, type WatchEvent } from '../../src/core/change.ts';
import type { NodeView } from '../../src/core/view.ts';

let h: Harness;
t.before(async () => {
  h = await startHarness();
  await h.admin('POST', '/networks', { name: 'office', cidr: '10.10.0.0/24' });
});
t.teardown(async () => {
  await h.stopAll();
});

const pub = () => generateKeyPair().publicKey;
const clients: NodeClient[] = [];
t.teardown(() => clients.forEach((c) => c.close()));

async function joined(name: string, keyToken: string): Promise<{ client: NodeClient; view: NodeView }> {
  const tok = decodeJoinToken(keyToken);
  const ca = await fetchPinnedCa(tok.server, tok.caPin);
  const client = new NodeClient(tok.server, ca);
  clients.push(client);
  const r = await client.join({ network: 'office', keyName: tok.keyName, keySecret: tok.secret, name, publicKey: pub(), listenPort: 0, endpoint: '' });
  return { client, view: r.view };
}

const quiet = (view: NodeView) => ({ listenPort: 0, endpoint: '', knownVersion: view.version, handshakes: [] });

t.test('a check-in a few changes behind gets the deltas since its version, which bring it to the whole view', async () => {
  const tok = (await h.admin<{ token: string }>('POST', '/networks/office/keys', { uses: 'unlimited' })).token;
  const a = await joined('a', tok);
  await joined('b', tok);
  await joined('c', tok);
  await h.admin('PATCH', '/networks/office', { keepalive: 21 });
  await h.admin('DELETE', '/networks/office/nodes/b');
  const whole = (await a.client.checkIn({ ...quiet(a.view), knownVersion: 0 })).view!;
  assert.equal(whole.version, a.view.version + 4);

  const r = await a.client.checkIn({ ...quiet(a.view), acceptsDeltas: true });
  assert.equal(r.changed, true);
  assert.equal(r.view, null, 'a whole view was sent to a node 4 changes behind');
  // the four changes merged into one delta
  assert.deepEqual(r.deltas.map((d) => d.version), [whole.version]);
  assert.equal(r.version, whole.version);
  assert.deepEqual(applyDeltas(a.view, a.view.version, r.deltas), whole);

  // in step: nothing
  const same = await a.client.checkIn({ ...quiet(whole), acceptsDeltas: true });
  assert.equal(same.changed, false);
  assert.deepEqual(same.deltas, []);
  // a caller that does not say it takes deltas gets the whole view
  const old = await a.client.checkIn(quiet(a.view));
  assert.deepEqual(old.view, whole);
  assert.deepEqual(old.deltas, []);
  // one with no view at all (version 0) gets the whole view too
  assert.deepEqual((await a.client.checkIn({ ...quiet(a.view), knownVersion: 0, acceptsDeltas: true })).view, whole);
});

t.test('a Watch stream opened a few changes behind is sent those changes first (merged), then what follows', async () => {
  const tok = (await h.admin<{ token: string }>('POST', '/networks/office/keys', { uses: 'unlimited' })).token;
  const a = await joined('w', tok);
  await joined('x', tok);
  await h.admin('PATCH', '/networks/office', { keepalive: 23 });
  const events: WatchEvent[] = [];
  let view = a.view;
  const got = new Promise<void>((resolve, reject) => {
    const cancel = a.client.watch(a.view.version, (ev) => {
      events.push(ev);
      if ('delta' in ev && ev.delta) view = applyDelta(view, ev.version, ev.delta);
      else if ('snapshot' in ev && ev.snapshot) view = ev.snapshot;
      if (events.some((e) => e.version === a.view.version + 3)) {
        cancel();
        resolve();
      }
    }, (err) => reject(err));
    t.teardown(cancel);
  });
  // the stream is open (a quiet check-in answered after it) before the next change is made
  await new Promise((r) => setTimeout(r, 200));
  await joined('y', tok);
  await Promise.race([got, new Promise((_, rej) => setTimeout(() => rej(new Error(`the versioned events not received: ${JSON.stringify(events.map((e) => e.version))}`)), 10_000))]);
  const versioned = events.filter((e) => e.version > 0);
  assert.ok(versioned.every((e) => 'delta' in e && e.delta), `a snapshot was sent: ${JSON.stringify(versioned.map((e) => Object.keys(e)))}`);
  // the two changes made before it opened come merged into one delta, then the join as it happens
  assert.deepEqual(versioned.map((e) => e.version), [2, 3].map((i) => a.view.version + i));
  assert.deepEqual(view, (await a.client.checkIn({ ...quiet(a.view), knownVersion: 0 })).view);
});
