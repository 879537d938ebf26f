// The change history behind catching a node up with deltas: what it holds, and when it says no.
import t from 'tap';
import assert from 'node:assert/strict';
import { ChangeHistory, catchUpLimit, HISTORY } from '../../src/controller/node-api/change-history.ts';
import { applyDeltas, type Change } from '../../src/core/change.ts';
import { fakeMemberStore, memberRow } from '../helpers/fake-store.ts';
import { buildView } from '../../src/core/view.ts';

const settings = (version: number, keepalive: number): Change => ({ kind: 'settings', network: 'office', version, settings: { name: 'office', cidr: '10.10.0.0/24', keepalive, listenPort: 51821 } });
const me = { id: 'id1', approved: true };

t.test('holds the last changes of a network and gives the deltas between two versions', async () => {
  const { store, change } = fakeMemberStore(3);
  const h = new ChangeHistory(store, 4);
  assert.equal(h.latest('office'), undefined);
  assert.equal(h.since('office', 1, 2, me), null, 'nothing held');
  for (let v = 2; v <= 7; v++) change(settings(v, v));
  assert.equal(h.latest('office'), 7);
  assert.deepEqual(h.since('office', 3, 7, me)!.map((e) => e.version), [4, 5, 6, 7]);
  assert.equal(h.since('office', 2, 7, me), null, 'version 3 is no longer held');
  assert.deepEqual(h.since('office', 7, 7, me), [], 'in step: nothing to send');
  assert.equal(h.since('office', 5, 8, me), null, 'version 8 is not held yet');
  assert.equal(h.since('office', 3, 7, me, 3), null, 'more deltas than the caller takes');
  // a change seen twice (the same version again) is not a gap
  change(settings(7, 7));
  assert.deepEqual(h.since('office', 5, 7, me)!.map((e) => e.version), [6, 7]);
  // a deleted network's versions start over
  change({ kind: 'network-deleted', network: 'office', version: 8 });
  assert.equal(h.latest('office'), undefined);
  h.unsubscribe();
});

t.test('a pending node gets version-only deltas for peer changes, an approved one the peers', async () => {
  const { store, change } = fakeMemberStore(2);
  const h = new ChangeHistory(store);
  const joined = memberRow(3);
  change({ kind: 'node-upserted', network: 'office', version: 2, node: joined, keepalive: 20 });
  assert.deepEqual(h.since('office', 1, 2, { id: 'id1', approved: false }), [{ version: 2, delta: { upserted: [], removed: [] } }]);
  const [ev] = h.since('office', 1, 2, me)!;
  assert.deepEqual(ev!.delta.upserted.map((p) => p.publicKey), ['pk3']);
  assert.equal(h.since('office', 1, 2, { id: 'id3', approved: true }), null, 'about itself: a whole view');
  change({ kind: 'node-removed', network: 'office', version: 3, nodeId: 'id2', publicKey: 'pk2' });
  assert.equal(h.since('office', 1, 3, { id: 'id2', approved: true }), null, 'removed itself');
  h.unsubscribe();
});

t.test('the deltas applied to the view held give the view built at the latest version', async () => {
  const { store, state, change } = fakeMemberStore(4);
  const h = new ChangeHistory(store);
  const net = () => ({ ...state.net });
  const self = state.rows[0]!;
  const before = buildView(self, net(), state.rows, [], []);
  const joined = memberRow(5);
  change({ kind: 'node-upserted', network: 'office', version: 2, node: joined, keepalive: 20 }, () => state.rows.push(joined));
  change({ kind: 'node-removed', network: 'office', version: 3, nodeId: 'id3', publicKey: 'pk3' }, () => state.rows.splice(2, 1));
  change({ kind: 'settings', network: 'office', version: 4, settings: { ...before.network, keepalive: 33 } }, () => (state.net = { ...state.net, keepalive: 33 }));
  const after = buildView(self, net(), state.rows, [], []);
  assert.deepEqual(applyDeltas(before, 1, h.since('office', 1, 4, me)!), after);
  // merged into one delta (what is sent): the same view
  assert.deepEqual(applyDeltas(before, 1, h.catchUp('office', 1, 4, me)!), after);
  assert.equal(h.catchUp('office', 1, 4, me)!.length, 1);
  // a gap between the view held and the deltas: nothing applied
  assert.equal(applyDeltas(before, 2, h.since('office', 2, 4, me)!), null);
  h.unsubscribe();
});

t.test('a node is caught up over at most as many changes as its network has members (past that a view is smaller)', async () => {
  assert.equal(catchUpLimit(0), 16);
  assert.equal(catchUpLimit(100), 100);
  assert.equal(catchUpLimit(5000), HISTORY);
});

t.test('reach: resolves once a change at or past the version is held, or false after the time given', async () => {
  const { store, change } = fakeMemberStore(3);
  const h = new ChangeHistory(store);
  change(settings(2, 20));
  assert.equal(await h.reach('office', 2, 10), true, 'held already');
  const waiting = [h.reach('office', 4, 5_000), h.reach('office', 3, 5_000), h.reach('office', 9, 20)];
  change(settings(3, 21));
  change(settings(4, 22));
  assert.deepEqual(await Promise.all(waiting), [true, true, false]);
  assert.equal(await h.reach('elsewhere', 1, 10), false, 'a network with nothing held');
  h.unsubscribe();
});
