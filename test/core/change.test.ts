import t from 'tap';
import assert from 'node:assert/strict';
import { deltaFor, applyDelta, type Change } from '../../src/core/change.ts';
import { buildView, type ViewNode } from '../../src/core/view.ts';
import { newNetwork } from '../../src/core/network.ts';

const node = (i: number, approved = true): ViewNode => ({ id: `id${i}`, name: `n${i}`, address: `10.10.0.${i}`, publicKey: `pk${i}`, endpoint: `172.31.0.${10 + i}:51821`, listenPort: 51821, approved });
const net = newNetwork({ name: 'office', cidr: '10.10.0.0/24' });

t.test('a joined node reaches every approved receiver as a peer delta; itself gets a snapshot', async () => {
  const c: Change = { kind: 'node-upserted', network: 'office', version: 5, node: node(4), keepalive: 20 };
  const d = deltaFor({ id: 'id1', approved: true }, c);
  assert.ok(typeof d === 'object');
  assert.deepEqual(d.upserted.map((p) => p.publicKey), ['pk4']);
  assert.equal(deltaFor({ id: 'id4', approved: true }, c), 'snapshot');
  assert.deepEqual(deltaFor({ id: 'id2', approved: false }, c), { upserted: [], removed: [] });
});

t.test('a pending node is not announced; a removed node is removed; the removed node is told', async () => {
  const pending: Change = { kind: 'node-upserted', network: 'office', version: 6, node: node(5, false), keepalive: 20 };
  assert.deepEqual(deltaFor({ id: 'id1', approved: true }, pending), { upserted: [], removed: ['pk5'] });
  const gone: Change = { kind: 'node-removed', network: 'office', version: 7, nodeId: 'id2', publicKey: 'pk2' };
  assert.deepEqual(deltaFor({ id: 'id1', approved: true }, gone), { upserted: [], removed: ['pk2'] });
  assert.equal(deltaFor({ id: 'id2', approved: true }, gone), 'removed');
  const settings = { name: 'office', cidr: '10.10.0.0/24', keepalive: 25, listenPort: 51821 };
  assert.deepEqual(deltaFor({ id: 'id1', approved: true }, { kind: 'settings', network: 'office', version: 8, settings }), { upserted: [], removed: [], network: settings });
});

t.test('applying deltas gives the same view as rebuilding it', async () => {
  const all = [node(1), node(2), node(3)];
  let v = buildView(all[0]!, { ...net, version: 3 }, all);
  const add = deltaFor({ id: 'id1', approved: true }, { kind: 'node-upserted', network: 'office', version: 4, node: node(4), keepalive: 20 });
  assert.ok(typeof add === 'object');
  v = applyDelta(v, 4, add);
  const rm = deltaFor({ id: 'id1', approved: true }, { kind: 'node-removed', network: 'office', version: 5, nodeId: 'id2', publicKey: 'pk2' });
  assert.ok(typeof rm === 'object');
  v = applyDelta(v, 5, rm);
  const expected = buildView(all[0]!, { ...net, version: 5 }, [node(1), node(3), node(4)]);
  assert.deepEqual(v, expected);
  // an upsert of a known peer replaces it (e.g. a new endpoint)
  const moved = { ...node(3), endpoint: '172.31.0.99:51821' };
  const up = deltaFor({ id: 'id1', approved: true }, { kind: 'node-upserted', network: 'office', version: 6, node: moved, keepalive: 20 });
  assert.ok(typeof up === 'object');
  v = applyDelta(v, 6, up);
  assert.equal(v.peers.find((p) => p.id === 'id3')!.endpoint, '172.31.0.99:51821');
  assert.equal(v.peers.length, 2);
  // a settings delta gives every peer the network's new keepalive, as a rebuild would
  const settings = { name: 'office', cidr: '10.10.0.0/24', keepalive: 45, listenPort: 51821, domain: 'office.internal', dns: true };
  const sd = deltaFor({ id: 'id1', approved: true }, { kind: 'settings', network: 'office', version: 7, settings });
  assert.ok(typeof sd === 'object');
  v = applyDelta(v, 7, sd);
  assert.deepEqual(v, buildView(node(1), { ...net, keepalive: 45, version: 7 }, [node(1), moved, node(4)]));
});

// A catch-up is one merged delta: applied to the view at its base, or at any version in between,
// it gives what applying the deltas one by one gives.
t.test('mergeDeltas: one delta that does what the deltas do in turn, from any view in between', async () => {
  const { mergeDeltas, applyDelta: apply } = await import('../../src/core/change.ts');
  type View = Parameters<typeof apply>[0];
  type Delta = Parameters<typeof apply>[2];
  let seed = 7;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const peer = (i: number, key = i, keepalive = 20) => ({ id: `id${i}`, name: `n${String(i).padStart(2, '0')}`, publicKey: `k${key}`, allowedIps: [`10.0.0.${i}/32`], endpoint: `192.0.2.${i}:51820`, keepalive, address: `10.0.0.${i}` });
  for (let run = 0; run < 200; run++) {
    let view: View = { self: { id: 'me', name: 'me', address: '10.0.0.250', prefixLength: 24, listenPort: 51820, endpoint: '', approved: true }, network: { name: 'n', cidr: '10.0.0.0/24', keepalive: 20, listenPort: 51820 }, peers: [peer(1), peer(2), peer(3)], records: [{ name: 'db', type: 'A' as const, address: '10.0.0.9' }], version: 10 };
    const views = [view];
    const deltas: Delta[] = [];
    for (let i = 0; i < 1 + rnd(8); i++) {
      const which = rnd(5);
      const n = 1 + rnd(6);
      const d: Delta = which === 0 ? { upserted: [peer(n, n + 10 * rnd(3))], removed: [] }
        : which === 1 ? { upserted: [], removed: [`k${n}`, `k${n + 10}`] }
        : which === 2 ? { upserted: [], removed: [], network: { ...view.network, keepalive: 10 + rnd(30) } }
        : which === 3 ? { upserted: [], removed: [], recordsUpserted: [{ name: rnd(2) ? 'db' : 'www', type: 'A' as const, address: `10.0.0.${rnd(200)}` }] }
        : { upserted: [], removed: [], recordsRemoved: [rnd(2) ? 'db' : 'www'] };
      deltas.push(d);
      view = apply(view, view.version + 1, d);
      views.push(view);
    }
    const merged = mergeDeltas(deltas);
    for (const from of views.slice(0, -1)) assert.deepEqual(apply(from, view.version, merged), view, `run ${run}: from version ${from.version}`);
  }
});

// A delta too large for one write goes in pieces (node-api/grpc-server.ts): applied one after
// another, keeping the version held until the last, they give what the whole delta gives; each
// encodes to at most the limit, and they are packed full; a small delta is left whole.
t.test('splitDelta: pieces under the limit that do in turn what the whole delta does', async () => {
  const { mergeDeltas, splitDelta, applyDelta: apply } = await import('../../src/core/change.ts');
  const { nodeService } = await import('../../src/rpc/proto.ts');
  const encode = nodeService().service.Watch!.responseSerialize;
  const size = (ev: object) => encode(ev).byteLength;
  type View = Parameters<typeof apply>[0];
  const peer = (i: number, key = i) => ({ id: `id${i}`, name: `n${String(i).padStart(3, '0')}`, publicKey: `k${key}`.padEnd(44, '='), allowedIps: [`10.0.${i >> 8}.${i & 255}/32`], endpoint: `192.0.2.${i & 255}:51820`, keepalive: 20, address: `10.0.${i >> 8}.${i & 255}` });
  const base: View = { self: { id: 'me', name: 'me', address: '10.0.3.250', prefixLength: 22, listenPort: 51820, endpoint: '', approved: true }, network: { name: 'n', cidr: '10.0.0.0/22', keepalive: 20, listenPort: 51820 }, peers: Array.from({ length: 60 }, (_, i) => peer(i + 1)), records: [{ name: 'db', type: 'A' as const, address: '10.0.0.9' }], version: 10 };
  const whole = mergeDeltas([
    { upserted: Array.from({ length: 150 }, (_, i) => peer(100 + i)), removed: Array.from({ length: 30 }, (_, i) => `k${i + 1}`.padEnd(44, '=')) },
    { upserted: [peer(40, 940)], removed: [], recordsUpserted: [{ name: 'www', type: 'A' as const, address: '10.0.0.7' }], recordsRemoved: ['db'] },
    { upserted: [], removed: [], network: { ...base.network, keepalive: 33 } },
  ]);
  const ev = { version: 42, delta: whole };
  const max = 1024;
  assert.ok(size(ev) > 10 * max);
  const pieces = splitDelta(ev, size, max);
  assert.ok(pieces.length >= 10, `${pieces.length} pieces`);
  // packed full, in order: at most one piece more than the bytes need (halving made 29 of these 19)
  assert.ok(pieces.length <= Math.ceil(size(ev) / max) + 1, `${pieces.length} pieces for ${size(ev)} bytes`);
  for (const [i, p] of pieces.entries()) {
    assert.ok(size(p) <= max, `piece ${i}: ${size(p)} bytes`);
    assert.equal(p.version, 42);
    assert.equal(p.delta.more, i < pieces.length - 1 ? true : undefined);
    assert.equal(p.delta.network !== undefined, i === pieces.length - 1, 'the settings come with the last piece');
  }
  let view = base;
  for (const p of pieces) {
    view = apply(view, p.delta.more ? view.version : p.version, p.delta);
    if (p.delta.more) assert.equal(view.version, 10, 'the version held stays until the last piece');
  }
  assert.deepEqual(view, apply(base, 42, whole));
  assert.equal(view.peers.find((p) => p.id === 'id40')!.publicKey, 'k940'.padEnd(44, '='));
  // applying any prefix again (a stream lost between pieces, caught up from the version kept) changes nothing
  let again = base;
  for (const p of pieces.slice(0, 5)) again = apply(again, again.version, p.delta);
  for (const p of pieces) again = apply(again, p.delta.more ? again.version : p.version, p.delta);
  assert.deepEqual(again, view);
  // a delta within the limit is left as it is
  const small = { version: 43, delta: { upserted: [peer(7)], removed: [] } };
  assert.equal(splitDelta(small, size, max)[0], small);
});
