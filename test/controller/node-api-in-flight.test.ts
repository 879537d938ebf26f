// Check-ins while writes are in flight: written (the network's version counts them) but their
// change values not yet at the view builder and the change history (a write's flush; at 5,000
// nodes it takes long enough for a burst of joins to always have some). On the real store and
// node API; only the delivery of change values to the views and the history is held back.
import t from 'tap';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair } from '../../src/core/wg-key.ts';
import pino from 'pino';
import { SqliteStore } from '../../src/controller/store/sqlite/index.ts';
import type { Store } from '../../src/controller/store/store.ts';
import { AdminService } from '../../src/controller/services/admin.ts';
import { HealthBook } from '../../src/controller/health-book.ts';
import { NodeApi, type CheckInInput } from '../../src/controller/node-api/service.ts';
import { ViewBuilder } from '../../src/controller/node-api/view-builder.ts';
import { ChangeHistory } from '../../src/controller/node-api/change-history.ts';
import { applyDeltas, type Change } from '../../src/core/change.ts';
import { decodeJoinToken } from '../../src/core/join-token.ts';
import type { ControllerContext } from '../../src/controller/context.ts';

const pub = () => generateKeyPair().publicKey;

t.test('a node that holds every change made so far is told nothing changed, not sent a whole view; members read ahead of the changes wait for them', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'meshctl-inflight-'));
  const store = await SqliteStore.open(dir, { softFlushMs: 3_600_000 });
  t.teardown(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  // The views and the history hear of changes only when the test lets them through.
  let holding = false;
  const held: Change[] = [];
  const listeners = new Set<(c: Change) => void>();
  store.subscribe((c) => (holding ? held.push(c) : listeners.forEach((l) => l(c))));
  const release = () => {
    holding = false;
    for (const c of held.splice(0)) listeners.forEach((l) => l(c));
  };
  const late = new Proxy(store, {
    get: (s, k) => (k === 'subscribe' ? (l: (c: Change) => void) => (listeners.add(l), () => listeners.delete(l)) : Reflect.get(s, k, s)),
  }) as Store;
  let clock = Date.now();
  const ctx: ControllerContext = { store, log: pino({ level: 'silent' }), grpcPublicAddr: '127.0.0.1:50051', caPin: `sha256:${'a'.repeat(64)}`, now: () => new Date(clock) };
  const views = new ViewBuilder(late, () => clock);
  const api = new NodeApi(ctx, new HealthBook(), views, null, new ChangeHistory(late));
  const admin = new AdminService(ctx, new HealthBook());
  await admin.createNetwork({ name: 'office', cidr: '10.10.0.0/24' }, 'test');
  const key = decodeJoinToken((await admin.createKey('office', { name: 'k1', uses: 'unlimited', expires: '0' }, 'test')).token);
  const joinAs = (name: string) => api.join({ network: 'office', keyName: key.keyName, keySecret: key.secret, name, publicKey: pub(), listenPort: 0, endpoint: '' }, 'ipv4:192.0.2.10:40000');
  const a = await joinAs('a');
  await joinAs('b');
  const row = (await store.getNodeById(a.nodeId))!;
  const checkIn = (knownVersion: number, acceptsDeltas = true) => {
    const req: CheckInInput = { listenPort: 0, endpoint: '', knownVersion, handshakes: [], acceptsDeltas };
    return api.checkIn(row, req, 'ipv4:192.0.2.10:40000');
  };
  const caughtUp = await checkIn(a.view.version);
  const view = applyDeltas(a.view, a.view.version, caughtUp.deltas!)!;

  // c joins; its change value is still on its way
  holding = true;
  await joinAs('c');
  const net = (await store.getNetwork('office'))!;
  assert.ok(net.version > view.version);
  for (const acceptsDeltas of [true, false]) {
    const r = await checkIn(view.version, acceptsDeltas);
    assert.equal(r.view, undefined, `a whole view for a node that holds every change made so far (acceptsDeltas ${acceptsDeltas})`);
    assert.deepEqual([r.changed, r.version], [false, view.version]);
  }

  // The members are read again from the store (they lagged the network's version for a while):
  // they hold c, the history does not yet. The catch-up waits for c's change, not a whole view.
  clock += 5_000;
  const pending = checkIn(view.version);
  setTimeout(release, 50);
  const r = await pending;
  assert.equal(r.view, undefined, 'a whole view while the change it needed was on its way');
  assert.equal(r.version, net.version);
  assert.deepEqual(applyDeltas(view, view.version, r.deltas!)!.peers.map((p) => p.name), ['b', 'c']);
});
