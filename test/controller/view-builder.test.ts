// The view builder keeps a network's members up to date from change values: joins, deletes and
// DNS changes patch them without reading the network again; a gap in versions, a gateway's change
// or a version bumped without a change value (a store reload) reads them again.
import t from 'tap';
import assert from 'node:assert/strict';
import { ViewBuilder } from '../../src/controller/node-api/view-builder.ts';
import type { NodeRow } from '../../src/controller/store/store.ts';
import { fakeMemberStore as fakeStore, memberRow } from '../helpers/fake-store.ts';

t.test('joins, deletes and record changes patch the members: one read for all of them', async () => {
  const { store, state, change } = fakeStore(5);
  let clock = 0;
  const vb = new ViewBuilder(store, () => clock);
  assert.equal((await vb.view(state.rows[0]!)).peers.length, 4);
  const joined = memberRow(6, 'a-first');
  change({ kind: 'node-upserted', network: 'office', version: 2, node: joined, keepalive: 20 }, () => state.rows.push(joined));
  const v = await vb.view(state.rows[0]!);
  assert.equal(v.version, 2);
  assert.deepEqual(v.peers.map((p) => p.name), ['a-first', 'n02', 'n03', 'n04', 'n05'], 'kept in name order');
  change({ kind: 'node-removed', network: 'office', version: 3, nodeId: 'id3', publicKey: 'pk3' }, () => state.rows.splice(2, 1));
  change({ kind: 'node-upserted', network: 'office', version: 4, node: { ...memberRow(2), endpoint: '198.51.100.2:1' }, keepalive: 20 });
  change({ kind: 'dns', network: 'office', version: 5, upserted: [{ name: 'printer', type: 'A', address: '10.10.0.200' }], removed: [] });
  const w = await vb.view(state.rows[0]!);
  assert.equal(w.version, 5);
  assert.deepEqual(w.peers.map((p) => p.name), ['a-first', 'n02', 'n04', 'n05']);
  assert.equal(w.peers.find((p) => p.name === 'n02')!.endpoint, '198.51.100.2:1');
  assert.deepEqual(w.records, [{ name: 'printer', type: 'A', address: '10.10.0.200' }]);
  change({ kind: 'settings', network: 'office', version: 6, settings: { name: 'office', cidr: '10.10.0.0/24', keepalive: 30, listenPort: 51821 } }, () => { state.net.keepalive = 30; });
  assert.equal((await vb.view(state.rows[0]!)).peers[0]!.keepalive, 30);
  assert.equal(state.reads, 1, 'the network was read once');
  clock += 10_000;
  assert.equal((await vb.view(state.rows[0]!)).version, 6);
  assert.equal(state.reads, 1, 'members that are current are not read again, however old');
});

t.test('a gap in versions, a gateway\'s change or a version bumped without a change reads the members again', async () => {
  const { store, state, change } = fakeStore(3);
  let clock = 0;
  const vb = new ViewBuilder(store, () => clock);
  await vb.membersOf('office');
  change({ kind: 'node-upserted', network: 'office', version: 3, node: memberRow(4), keepalive: 20 }, () => state.rows.push(memberRow(4)));
  assert.equal((await vb.membersOf('office')).rows.length, 4);
  assert.equal(state.reads, 2, 'version 2 never came: read again');
  change({ kind: 'node-upserted', network: 'office', version: 4, node: { ...memberRow(1), ingress: true }, keepalive: 20 }, () => { state.rows[0]!.ingress = true; });
  await vb.membersOf('office');
  assert.equal(state.reads, 3, 'a gateway\'s clients come with the members');
  // a version bumped with no change value (memory rolled back to the file): held members trail it
  state.net.version = 9;
  assert.equal((await vb.membersOf('office')).version, 4, 'a change may still be on its way');
  clock += 1500;
  assert.equal((await vb.membersOf('office')).version, 9);
  assert.equal(state.reads, 4);
  // a change older than what was read is already in it
  change({ kind: 'node-removed', network: 'office', version: 8, nodeId: 'id2', publicKey: 'pk2' });
  state.net.version = 9;
  assert.equal((await vb.membersOf('office')).rows.length, 4);
  change({ kind: 'network-deleted', network: 'office', version: 10 });
  await vb.membersOf('office');
  assert.equal(state.reads, 5);
});

t.test('byPublicKey: one index per member list, a new list gets its own', async (t) => {
  const { byPublicKey } = await import('../../src/controller/node-api/view-builder.ts');
  const mk = (id: string) => ({ id, publicKey: `${id}-key` }) as unknown as NodeRow;
  const rows = [mk('a'), mk('b')];
  const idx = byPublicKey(rows);
  t.equal(idx.get('b-key')?.id, 'b');
  t.equal(byPublicKey(rows), idx, 'the same list: the same index, not built again');
  const next = [...rows, mk('c')];
  t.equal(byPublicKey(next).get('c-key')?.id, 'c', 'a changed list is indexed anew');
  t.equal(idx.get('c-key'), undefined);
});
