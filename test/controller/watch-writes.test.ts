// How the controller writes Watch events (node-api/grpc-server.ts): one write at a time per
// stream, and a delta too large for one write in pieces of at most MAX_EVENT_BYTES (Node's TLS
// layer keeps a buffer as large as a connection's largest write for as long as it lives).
import t from 'tap';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { generateKeyPair } from '../../src/core/wg-key.ts';
import type * as grpc from '@grpc/grpc-js';
import { eventEncoder, eventWriter, MAX_EVENT_BYTES } from '../../src/controller/node-api/grpc-server.ts';
import { applyDelta, type PeerDelta, type WatchEvent } from '../../src/core/change.ts';
import type { NodeView } from '../../src/core/view.ts';
import { NodeClient } from '../../src/agent/client.ts';
import { fetchPinnedCa } from '../../src/net/pinned-ca.ts';
import { decodeJoinToken } from '../../src/core/join-token.ts';
import { nodeService } from '../../src/rpc/proto.ts';
import { startTestController } from '../helpers/controller.ts';

const pub = () => generateKeyPair().publicKey;
const peer = (i: number) => ({ id: `id${i}`, name: `n${i}`, publicKey: `k${i}`.padEnd(44, '='), allowedIps: [`10.0.${i >> 8}.${i & 255}/32`], endpoint: `192.0.2.${i & 255}:51820`, keepalive: 20, address: `10.0.${i >> 8}.${i & 255}` });

/** A server call that records its writes; the test completes them. */
function fakeCall() {
  const call = Object.assign(new EventEmitter(), {
    cancelled: false,
    destroyed: false,
    writes: [] as { ev: WatchEvent; done: () => void }[],
    write(ev: WatchEvent, done: () => void) {
      call.writes.push({ ev, done });
      return true;
    },
  });
  return call;
}
const asCall = (c: ReturnType<typeof fakeCall>) => c as unknown as grpc.ServerWritableStream<unknown, WatchEvent>;
const turns = async (n = 5) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

t.test('a stream has one write at a time; a large delta goes in pieces; an unread stream is cut off', async () => {
  const call = fakeCall();
  const send = eventWriter(asCall(call), eventEncoder());
  const big: WatchEvent = { version: 9, delta: { upserted: Array.from({ length: 600 }, (_, i) => peer(i)), removed: [] } };
  assert.ok(eventEncoder().encode(big).byteLength > 3 * MAX_EVENT_BYTES);
  let finished = false;
  const sent = send(big).then(() => (finished = true));
  const small: WatchEvent = { version: 10, delta: { upserted: [peer(999)], removed: [] } };
  const pieces: WatchEvent[] = [];
  for (;;) {
    await turns();
    assert.equal(call.writes.length, 1, 'one write in flight, the next only once it has gone out');
    const w = call.writes.shift()!;
    pieces.push(w.ev);
    w.done();
    if (!('delta' in w.ev) || !w.ev.delta.more) break;
  }
  await sent;
  assert.ok(finished);
  assert.ok(pieces.length >= 4, `${pieces.length} pieces`);
  const plain = nodeService().service.Watch!.responseSerialize;
  for (const p of pieces) assert.ok(plain(p).byteLength <= MAX_EVENT_BYTES, `a piece of ${plain(p).byteLength} bytes`);
  assert.deepEqual(pieces.flatMap((p) => ('delta' in p ? p.delta.upserted.map((x) => x.id) : [])), Array.from({ length: 600 }, (_, i) => `id${i}`));
  // a small event goes whole
  const second = send(small);
  await turns();
  assert.deepEqual(call.writes.map((w) => w.ev), [small]);
  call.writes.shift()!.done();
  await second;

  // a write that never completes: after the drain time the stream is closed with an error
  const slow = fakeCall();
  const errors: { details?: string }[] = [];
  slow.on('error', (e: { details?: string }) => errors.push(e));
  await eventWriter(asCall(slow), eventEncoder(), 50)(small);
  assert.equal(errors.length, 1);
  assert.match(errors[0]!.details ?? '', /did not read its updates/);

  // a stream that closes while a write is out: the send resolves, nothing more is written
  const closing = fakeCall();
  const p = eventWriter(asCall(closing), eventEncoder())(big);
  await turns();
  assert.equal(closing.writes.length, 1);
  closing.destroyed = true;
  closing.emit('close');
  await p;
  assert.equal(closing.writes.length, 1);
});

t.test('a catch-up larger than one write reaches a real agent in pieces, and the agent ends at the whole view; not twice', async (t) => {
  const tc = await startTestController({ grpc: true });
  t.teardown(() => tc.stop());
  await tc.admin('POST', '/networks', { name: 'big', cidr: '10.100.0.0/16' });
  const tok = decodeJoinToken((await tc.admin<{ token: string }>('POST', '/networks/big/keys', { uses: 'unlimited' })).token);
  const ca = await fetchPinnedCa(tok.server, tok.caPin);
  const joinAs = async (name: string) => {
    const c = new NodeClient(tok.server, ca);
    try {
      return await c.join({ network: 'big', keyName: tok.keyName, keySecret: tok.secret, name, publicKey: pub(), listenPort: 51821, endpoint: '192.0.2.1:51821' }, 60_000);
    } finally {
      c.close();
    }
  };
  const a = await joinAs('a');
  // 150 more join while a is away: a's catch-up is one merged delta of about 20 KB
  for (let i = 0; i < 150; i += 10) await Promise.all(Array.from({ length: 10 }, (_, j) => joinAs(`n${i + j}`)));
  const client = new NodeClient(tok.server, ca, a.credential);
  t.teardown(() => client.close());
  const events: WatchEvent[] = [];
  let view: NodeView = a.view;
  const cancel = await new Promise<() => void>((resolve, reject) => {
    const c = client.watch(a.view.version, (ev) => {
      events.push(ev);
      if (!('delta' in ev) || !ev.delta) return reject(new Error(`expected deltas, got ${JSON.stringify(Object.keys(ev))}`));
      const d = ev.delta as PeerDelta;
      view = applyDelta(view, d.more ? view.version : ev.version, d);
      if (!d.more) resolve(c);
    }, reject);
  });
  cancel();
  const plain = nodeService().service.Watch!.responseSerialize;
  assert.ok(events.length >= 2, `the catch-up came as ${events.length} event(s)`);
  for (const ev of events) assert.ok(plain(ev).byteLength <= MAX_EVENT_BYTES, `an event of ${plain(ev).byteLength} bytes`);
  // A check-in made with the Watch from the same version (as the agent's when it connects) does
  // not bring the catch-up a second time: both answers at once went out in one write
  const behind = { listenPort: 51821, endpoint: '192.0.2.1:51821', knownVersion: a.view.version, handshakes: [], acceptsDeltas: true };
  const watching = await client.checkIn({ ...behind, watching: true });
  assert.deepEqual([watching.changed, watching.version, watching.view, watching.deltas], [false, a.view.version, null, []]);
  const alone = await client.checkIn(behind);
  assert.equal(alone.changed, true);
  assert.equal(alone.version, view.version);
  assert.deepEqual(alone.deltas.flatMap((d) => d.delta.upserted.map((p) => p.name)).sort(), view.peers.map((p) => p.name).sort());
  const fresh = await client.checkIn({ listenPort: 51821, endpoint: '192.0.2.1:51821', knownVersion: 0, handshakes: [] });
  assert.ok(fresh.view);
  assert.equal(view.version, fresh.view.version);
  assert.deepEqual(view.peers.map((p) => p.name).sort(), fresh.view.peers.map((p) => p.name).sort());
  assert.equal(view.peers.length, 150);
});
