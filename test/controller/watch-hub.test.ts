// The Watch hub on a fake store: snapshots share one read of the members per network version,
// are built one per event-loop turn, and make the deltas queued behind them that they contain
// unnecessary.
import t from 'tap';
import assert from 'node:assert/strict';
import pino from 'pino';
import { WatchHub } from '../../src/controller/node-api/watch-hub.ts';
import type { Change, WatchEvent } from '../../src/core/change.ts';
import type { Store } from '../../src/controller/store/store.ts';
import { fakeMemberStore as fakeStore, memberRow } from '../helpers/fake-store.ts';
import { ViewBuilder } from '../../src/controller/node-api/view-builder.ts';
import { ChangeHistory } from '../../src/controller/node-api/change-history.ts';
import type { MeshError } from '../../src/core/errors.ts';

function subscriber() {
  const events: WatchEvent[] = [];
  const ended: MeshError[] = [];
  return { events, ended, out: { send: (ev: WatchEvent) => events.push(ev), end: (e: MeshError) => ended.push(e) } };
}

const settle = async () => {
  for (let i = 0; i < 200; i++) await new Promise((r) => setImmediate(r));
};
const log = pino({ level: 'silent' });
const hubOn = (store: Store) => new WatchHub(store, new ViewBuilder(store), new ChangeHistory(store), log);

const settings = (version: number, keepalive = 20): Change => ({ kind: 'settings', network: 'office', version, settings: { name: 'office', cidr: '10.10.0.0/24', keepalive, listenPort: 51821 } });

t.test('a storm of streams behind (a controller restart) reads the members once for all their snapshots', async () => {
  const { store, state, emit } = fakeStore(20);
  const hub = hubOn(store);
  const subs = state.rows.map((r) => {
    const s = subscriber();
    hub.add(r, 0, 1, s.out);
    return s;
  });
  await settle();
  assert.equal(state.reads, 1);
  for (const [i, s] of subs.entries()) {
    assert.equal(s.events.length, 1);
    const ev = s.events[0]!;
    assert.ok('snapshot' in ev);
    assert.equal(ev.snapshot.self.id, `id${i + 1}`);
    assert.equal(ev.snapshot.peers.length, 19);
    assert.ok(ev.snapshot.peers.every((p) => p.id !== `id${i + 1}`));
  }
  // the next change moves the members held forward without reading them again
  state.net.version = 2;
  emit(settings(2));
  const late = subscriber();
  hub.add(state.rows[0]!, 0, 2, late.out);
  await settle();
  assert.equal(state.reads, 1);
  assert.equal(late.events.at(-1)!.version, 2);
  hub.close();
});

t.test('a settings change is one small delta per stream, not a snapshot', async () => {
  const { store, state, emit } = fakeStore(20);
  const hub = hubOn(store);
  const subs = state.rows.map((r) => {
    const s = subscriber();
    hub.add(r, 1, 1, s.out);
    return s;
  });
  state.net.version = 2;
  emit(settings(2, 30));
  await settle();
  assert.equal(state.reads, 0);
  for (const s of subs) assert.deepEqual(s.events, [{ version: 2, delta: { upserted: [], removed: [], network: { name: 'office', cidr: '10.10.0.0/24', keepalive: 30, listenPort: 51821 } } }]);
  hub.close();
});

t.test('a delta queued behind a snapshot that already holds it is not sent; later ones are', async () => {
  const { store, state, emit } = fakeStore(3);
  const hub = hubOn(store);
  const s = subscriber();
  hub.add(state.rows[0]!, 1, 1, s.out);
  // its own record changes (v2) and a join (v3) land before the snapshot for v2 is built: it is built at v3
  const joined = memberRow(4);
  state.rows.push(joined);
  state.net.version = 3;
  emit({ kind: 'node-upserted', network: 'office', version: 2, node: state.rows[0]!, keepalive: 20 });
  emit({ kind: 'node-upserted', network: 'office', version: 3, node: joined, keepalive: 20 });
  await settle();
  assert.equal(s.events.length, 1);
  assert.equal(s.events[0]!.version, 3);
  assert.ok('snapshot' in s.events[0]! && s.events[0].snapshot.peers.some((p) => p.id === 'id4'));
  state.net.version = 4;
  emit({ kind: 'node-removed', network: 'office', version: 4, nodeId: 'id4', publicKey: 'pk4' });
  await settle();
  assert.equal(s.events.length, 2);
  assert.deepEqual(s.events[1], { version: 4, delta: { upserted: [], removed: ['pk4'] } });
  hub.close();
});

t.test('snapshots are built one per event-loop turn, so I/O runs during a storm of them', async () => {
  const { store, state } = fakeStore(50);
  const hub = hubOn(store);
  const subs = state.rows.map((r) => {
    const s = subscriber();
    hub.add(r, 0, 1, s.out);
    return s;
  });
  const sentWhenTimerRan = await new Promise<number>((resolve) => setTimeout(() => resolve(subs.filter((s) => s.events.length).length), 0));
  assert.ok(sentWhenTimerRan < 50, `all ${sentWhenTimerRan} snapshots were built before a timer could run`);
  await settle();
  assert.equal(subs.filter((s) => s.events.length === 1).length, 50);
  hub.close();
});

t.test('views asked for at once while the member read is in flight share that one read (an engine with slow reads)', async () => {
  const { store, state } = fakeStore(50);
  const slow = store.listNodes.bind(store);
  (store as { listNodes: Store['listNodes'] }).listNodes = async (network?: string) => {
    await new Promise((r) => setTimeout(r, 30)); // a read that takes a while (PostgreSQL under load)
    return slow(network);
  };
  let clock = 0;
  const views = new ViewBuilder(store, () => clock);
  const built = await Promise.all(state.rows.map((r) => views.view(r)));
  assert.equal(state.reads, 1, `${state.rows.length} views at once read the members ${state.reads} times`);
  assert.ok(built.every((v) => v.peers.length === 49));
  // a failed read is not kept: the next caller reads again
  (store as { listNodes: Store['listNodes'] }).listNodes = async () => { throw new Error('connection lost'); };
  state.net.version = 2; // bumped with no change value seen here: read again once it is old enough
  clock += 5000;
  await assert.rejects(views.membersOf('office'), /connection lost/);
  (store as { listNodes: Store['listNodes'] }).listNodes = slow;
  assert.equal((await views.membersOf('office')).rows.length, 50);
});

// A stream coming back a few versions behind (a restarted controller's herd): the deltas since
// its version, not a whole view; a whole view when they are not all held here, or when one of
// them is about the node itself.
t.test('a stream a few changes behind is sent the changes since its version, merged into one delta', async () => {
  const { store, state, change } = fakeStore(10);
  const hub = hubOn(store);
  const joined = memberRow(11);
  change({ kind: 'node-upserted', network: 'office', version: 2, node: joined, keepalive: 20 }, () => state.rows.push(joined));
  change({ kind: 'node-removed', network: 'office', version: 3, nodeId: 'id2', publicKey: 'pk2' }, () => state.rows.splice(1, 1));
  change(settings(4, 25));
  const s = subscriber();
  hub.add(state.rows[0]!, 1, 4, s.out);
  await settle();
  // the three changes as one delta: the join, the delete and the settings
  assert.equal(s.events.length, 1);
  const ev = s.events[0]!;
  assert.ok('delta' in ev, 'a snapshot was sent');
  assert.equal(ev.version, 4);
  assert.deepEqual([ev.delta.upserted.map((p) => p.publicKey), ev.delta.removed, ev.delta.network?.keepalive], [['pk11'], ['pk2'], 25]);
  // one behind by a single change gets only that one; the change after it comes as usual, once
  const one = subscriber();
  const two = subscriber();
  hub.add(state.rows[2]!, 3, 4, one.out);
  hub.add(state.rows[3]!, 3, 4, two.out);
  await settle();
  change(settings(5, 30));
  await settle();
  assert.deepEqual(one.events.map((e) => [e.version, 'delta' in e]), [[4, true], [5, true]]);
  // receivers with the same approval share the event objects (encoded once by the node API)
  assert.equal(one.events[0], two.events[0]);
  assert.equal(one.events[1], two.events[1]);
  hub.close();
});

t.test('a whole view when the deltas are not all held, or one is about the node itself', async () => {
  const { store, state, change } = fakeStore(10);
  const hub = new WatchHub(store, new ViewBuilder(store), new ChangeHistory(store, 3), log);
  for (let v = 2; v <= 6; v++) change(settings(v, 20 + v));
  const cases: [string, number][] = [['older than the history', 2], ['from nothing', 0], ['ahead of the network (a restored store)', 9]];
  for (const [what, from] of cases) {
    const s = subscriber();
    hub.add(state.rows[0]!, from, 6, s.out);
    await settle();
    assert.equal(s.events.length, 1, what);
    assert.ok('snapshot' in s.events[0]!, `${what}: no snapshot`);
  }
  const held = subscriber();
  hub.add(state.rows[1]!, 3, 6, held.out);
  await settle();
  assert.deepEqual(held.events.map((e) => [e.version, 'delta' in e]), [[6, true]]);
  // its own record changed in between (say, an admin approved it): a whole view
  change({ kind: 'node-upserted', network: 'office', version: 7, node: { ...state.rows[0]!, endpoint: '172.31.9.9:51821' }, keepalive: 20 });
  change(settings(8, 40));
  const self = subscriber();
  hub.add(state.rows[0]!, 6, 8, self.out);
  await settle();
  assert.equal(self.events.length, 1);
  assert.ok('snapshot' in self.events[0]!);
  // a gap in what was seen here (a change this controller was never told of) starts the history over
  change(settings(10, 50));
  const gap = subscriber();
  hub.add(state.rows[2]!, 8, 10, gap.out);
  await settle();
  assert.equal(gap.events.length, 1);
  assert.ok('snapshot' in gap.events[0]!);
  hub.close();
});

t.test('a write in flight (the network\'s version counts it, its change has not come) is no reason for a whole view', async () => {
  const { store, state, change, emit } = fakeStore(10);
  const views = new ViewBuilder(store);
  const hub = new WatchHub(store, views, new ChangeHistory(store), log);
  await views.membersOf('office'); // held since the controller started, moved on by each change
  change(settings(2, 22));
  change(settings(3, 23));
  // version 4 is written but its change value is still on its way (a burst of joins always has some)
  state.net.version = 4;
  const s = subscriber();
  hub.add(state.rows[0]!, 1, 4, s.out);
  await settle();
  assert.deepEqual(s.events.map((e) => [e.version, 'delta' in e]), [[3, true]]);
  emit(settings(4, 24));
  await settle();
  assert.deepEqual(s.events.map((e) => [e.version, 'delta' in e]), [[3, true], [4, true]]);
  hub.close();
});

// A burst of changes faster than they can be written to every stream (5,000 streams and joins
// coming at 30 a second) goes out as one delta per stream for the changes made meanwhile, not
// one write per change and stream.
t.test('changes that come while earlier ones wait to be fanned out go to each stream as one merged delta', async () => {
  const { store, state, change } = fakeStore(300); // more streams than are written per turn
  const hub = hubOn(store);
  const subs = state.rows.map((r) => {
    const s = subscriber();
    hub.add(r, 1, 1, s.out);
    return s;
  });
  const [j301, j302] = [memberRow(301), memberRow(302)];
  change({ kind: 'node-upserted', network: 'office', version: 2, node: j301, keepalive: 20 }, () => state.rows.push(j301));
  // a node whose stream opens right after its join, from the version its join gave it
  const joiner = subscriber();
  hub.add(j301, 2, 2, joiner.out);
  change({ kind: 'node-upserted', network: 'office', version: 3, node: j302, keepalive: 20 }, () => state.rows.push(j302));
  change({ kind: 'node-removed', network: 'office', version: 4, nodeId: 'id7', publicKey: 'pk7' }, () => state.rows.splice(6, 1));
  change(settings(5, 30));
  const moved = { ...state.rows[4]!, endpoint: '172.31.9.9:51821' };
  change({ kind: 'node-upserted', network: 'office', version: 6, node: moved, keepalive: 30 }, () => (state.rows[4] = moved));
  await settle();
  const others = subs.filter((_, i) => i !== 4 && i !== 6);
  for (const s of others) assert.equal(s.events.length, 1, 'one event per stream for five changes');
  const ev = others[0]!.events[0]!;
  assert.ok('delta' in ev);
  assert.equal(ev.version, 6);
  assert.deepEqual(ev.delta.upserted.map((p) => p.publicKey).sort(), ['pk301', 'pk302', 'pk5']);
  assert.deepEqual(ev.delta.removed, ['pk7']);
  assert.equal(ev.delta.network?.keepalive, 30);
  assert.ok(others.every((s) => s.events[0] === ev), 'streams with the same approval share one event object');
  // the joiner holds its own join: the rest reaches it as a delta, without itself as a peer
  assert.deepEqual(joiner.events.map((e) => [e.version, 'delta' in e && e.delta.upserted.map((p) => p.publicKey).sort()]), [[6, ['pk302', 'pk5']]]);
  // the node removed is told so; the node whose own record changed gets its whole view
  assert.deepEqual([subs[6]!.events.length, subs[6]!.ended.map((e) => e.code)], [0, ['NODE_REMOVED']]);
  assert.equal(subs[4]!.events.length, 1);
  const own = subs[4]!.events[0]!;
  assert.ok('snapshot' in own && own.version === 6 && own.snapshot.self.endpoint === '172.31.9.9:51821');

  // changes made while a fan-out is on its way (here: as the first stream is written) wait for it
  // and then go out together
  const j303 = memberRow(303);
  const first = subs[0]!;
  const send = first.out.send;
  first.out.send = (e: WatchEvent) => {
    if (e.version === 7) {
      change({ kind: 'node-upserted', network: 'office', version: 8, node: j303, keepalive: 30 }, () => state.rows.push(j303));
      change(settings(9, 35));
    }
    return send(e);
  };
  change(settings(7, 32));
  await settle();
  for (const s of [first, others.at(-1)!]) {
    assert.deepEqual(s.events.slice(1).map((e) => [e.version, 'delta' in e && e.delta.upserted.map((p) => p.publicKey), 'delta' in e && e.delta.network?.keepalive]), [[7, [], 32], [9, ['pk303'], 35]]);
  }
  hub.close();
});
