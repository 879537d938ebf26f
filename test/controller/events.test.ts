// The admin event stream (GET /api/v1/events) against a real controller on loopback: changes
// within 1 s, resuming, reset, auth, network filter, status events, and no listener left behind.
import t from 'tap';
import { startTestController, type TestController } from '../helpers/controller.ts';
import { openEvents, type EventStream } from '../helpers/sse.ts';
import { decodeJoinToken } from '../../src/core/join-token.ts';
import { generateKeyPair } from '../../src/core/wg-key.ts';

const until = async (what: string, check: () => boolean, ms = 3000) => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

async function join(tc: TestController, network: string, name: string) {
  const key = await tc.admin<{ token: string }>('POST', `/networks/${network}/keys`, { name: `k-${name}` });
  const jt = decodeJoinToken(key.token);
  const { publicKey } = generateKeyPair();
  const r = await tc.ctl.nodeApi.join({ network, keyName: jt.keyName, keySecret: jt.secret, name, publicKey, listenPort: 0, endpoint: '' }, '127.0.0.1:40000');
  return { ...r, publicKey };
}

const data = (e: { data: string }) => JSON.parse(e.data) as Record<string, unknown> & { kind?: string; network?: string; version?: number };

t.test('the event stream', async (t) => {
  const tc = await startTestController({ grpc: true, events: { sweepMs: 200, touchMs: 20 } }); // the sweep every 200 ms, not 5 s
  t.teardown(() => tc.stop());
  await tc.admin('POST', '/networks', { name: 'office', cidr: '10.10.0.0/24' });
  await tc.admin('POST', '/networks', { name: 'lab', cidr: '10.20.0.0/24' });
  const open: EventStream[] = [];
  t.teardown(() => open.forEach((s) => s.close()));
  const events = async (o: Parameters<typeof openEvents>[1] = {}) => {
    const s = await openEvents(tc, o);
    open.push(s);
    return s;
  };

  await t.test('refuses a request without a token, or with a wrong one, with 401 like every admin route', async (t) => {
    for (const token of [null, 'x'.repeat(43)]) {
      const s = await events({ token });
      t.equal(s.status, 401);
      t.match(s.headers['content-type'], /application\/problem\+json/);
      await s.ended;
      t.match(s.raw(), /"code":"UNAUTHENTICATED"/);
    }
  });

  await t.test('a write shows as a change event within 1 s, with the Change value as data', async (t) => {
    const s = await events();
    t.equal(s.status, 200);
    t.match(s.headers['content-type'], /^text\/event-stream/);
    await s.waitRaw(/^id: [0-9a-f]+-\d+\n\n/); // opens with the current cursor
    const t0 = Date.now();
    await tc.admin('POST', '/networks/office/dns', { name: 'printer', address: '10.10.0.200' });
    const e = await s.next((e) => e.event === 'change', 1000);
    t.ok(Date.now() - t0 < 1000, `within 1 s (${Date.now() - t0} ms)`);
    const c = data(e);
    t.equal(c.kind, 'dns');
    t.equal(c.network, 'office');
    t.equal(typeof c.version, 'number');
    t.match(c, { upserted: [{ name: 'printer', address: '10.10.0.200' }], removed: [] });
    t.match(e.id, /^[0-9a-f]+-\d+$/);
  });

  await t.test('a joined node comes as node-upserted without its credential hash', async (t) => {
    const s = await events({ query: 'network=office' });
    const n = await join(tc, 'office', 'n1');
    const e = await s.next((e) => e.event === 'change' && data(e).kind === 'node-upserted');
    const node = data(e).node as Record<string, unknown>;
    t.equal(node.id, n.nodeId);
    t.equal(node.publicKey, n.publicKey);
    t.notOk('credentialHash' in node, 'no credential hash');
    t.notOk('createdAt' in node);
    t.notMatch(e.data, /credential/i);
  });

  await t.test('a status event when a node\'s health changes: with time (sweep) and with contact (check-in)', async (t) => {
    const n = await join(tc, 'office', 'n2');
    const s = await events({ query: 'network=office' });
    await s.waitRaw(/^id: /);
    const realNow = tc.ctl.ctx.now;
    t.teardown(() => { tc.ctl.ctx.now = realNow; });
    // Ten minutes on, without a word from it: down (the timer's sweep sees it).
    tc.ctl.ctx.now = () => new Date(Date.now() + 10 * 60_000);
    const down = await s.next((e) => e.event === 'status' && data(e).nodeId === n.nodeId && data(e).status === 'down', 2000);
    t.same(Object.keys(data(down)).sort(), ['lastContact', 'name', 'network', 'nodeId', 'status']);
    t.equal(data(down).name, 'n2');
    t.equal(data(down).network, 'office');
    // It checks in: healthy, within 1 s.
    const from = s.events.length;
    const node = (await tc.ctl.ctx.store.getNodeById(n.nodeId))!;
    const t0 = Date.now();
    await tc.ctl.nodeApi.checkIn(node, { listenPort: 0, endpoint: '', knownVersion: 0, handshakes: [] }, '127.0.0.1:40000');
    const up = await s.next((e) => e.event === 'status' && data(e).nodeId === n.nodeId, 1000, from);
    t.equal(data(up).status, 'healthy', `healthy after its check-in (${Date.now() - t0} ms)`);
    t.match(data(up).lastContact, /^\d{4}-\d\d-\d\dT/);
    t.match(up.id, /^[0-9a-f]+-\d+$/);
  });

  await t.test('a down node that two members report handshakes with turns healthy, without a word from it', async (t) => {
    const [silent, a, b] = [await join(tc, 'office', 'hs-silent'), await join(tc, 'office', 'hs-a'), await join(tc, 'office', 'hs-b')];
    const contact = (await tc.ctl.ctx.store.getNodeById(silent.nodeId))!.lastCheckin;
    const s = await events({ query: 'network=office' });
    await s.waitRaw(/^id: /);
    const realNow = tc.ctl.ctx.now;
    t.teardown(() => { tc.ctl.ctx.now = realNow; });
    const later = Date.now() + 10 * 60_000;
    tc.ctl.ctx.now = () => new Date(Date.now() + 10 * 60_000);
    await s.next((e) => e.event === 'status' && data(e).nodeId === silent.nodeId && data(e).status === 'down', 2000);
    const from = s.events.length;
    // Its peers saw a handshake with it just now (its agent is gone, its WireGuard is not).
    for (const r of [a, b]) {
      const node = (await tc.ctl.ctx.store.getNodeById(r.nodeId))!;
      await tc.ctl.nodeApi.checkIn(node, { listenPort: 0, endpoint: '', knownVersion: 0, handshakes: [{ publicKey: silent.publicKey, latestHandshake: Math.floor(later / 1000), rxBytes: 1, txBytes: 1 }] }, '127.0.0.1:40000');
    }
    const up = await s.next((e) => e.event === 'status' && data(e).nodeId === silent.nodeId, 1000, from);
    t.equal(data(up).status, 'healthy', 'healthy on the members\' word');
    t.equal((await tc.ctl.ctx.store.getNodeById(silent.nodeId))!.lastCheckin, contact, 'its own last contact did not move');
  });

  await t.test('?network= filters: changes of other networks are not sent', async (t) => {
    const s = await events({ query: 'network=lab' });
    await tc.admin('POST', '/networks/office/dns', { name: 'other', address: '10.10.0.201' });
    await tc.admin('POST', '/networks/lab/dns', { name: 'mine', address: '10.20.0.200' });
    const e = await s.next((e) => e.event === 'change');
    t.equal(data(e).network, 'lab');
    t.equal(s.events.filter((e) => e.event === 'change' && data(e).network !== 'lab').length, 0);
    const missing = await events({ query: 'network=nosuch' });
    t.equal(missing.status, 404);
  });

  await t.test('resumes after a cursor (?since= or Last-Event-ID): what came after it, in order', async (t) => {
    const s = await events();
    await tc.admin('POST', '/networks/office/dns', { name: 'r1', address: '10.10.0.211' });
    const first = await s.next((e) => e.event === 'change' && (data(e).upserted as { name: string }[])?.[0]?.name === 'r1');
    s.close();
    await tc.admin('POST', '/networks/office/dns', { name: 'r2', address: '10.10.0.212' });
    await tc.admin('DELETE', '/networks/office/dns/r1');
    for (const how of [{ query: `since=${first.id}` }, { headers: { 'last-event-id': first.id } }, { query: 'since=ffff-1', headers: { 'last-event-id': first.id } }]) {
      const r = await events(how);
      t.equal(r.status, 200, JSON.stringify(how));
      await r.next((e) => e.event === 'change' && (data(e).removed as string[])?.includes('r1'));
      const got = r.events.filter((e) => e.event === 'change').map((e) => data(e));
      t.same(got.map((c) => c.kind), ['dns', 'dns'], 'exactly the two changes after the cursor');
      t.same((got[0]!.upserted as { name: string }[]).map((x) => x.name), ['r2']);
      t.ok(got[0]!.version! < got[1]!.version!, 'in order');
      t.notOk(r.events.some((e) => e.event === 'reset'));
      r.close();
    }
  });

  await t.test('an unknown cursor (another controller run, garbage, the future) gets a reset, then live events', async (t) => {
    for (const since of ['0123abcd-3', 'nonsense', `${tc.ctl.events.log.epoch}-999999`]) {
      const s = await events({ query: `since=${encodeURIComponent(since)}` });
      const r = await s.next(() => true);
      t.equal(r.event, 'reset', since);
      t.equal(r.data, '{}');
      t.equal(r.id, tc.ctl.events.log.cursor(), 'the reset carries the current cursor');
      await tc.admin('POST', '/networks/lab/dns', { name: `after-${s.events.length}-${Date.now() % 1000}`, address: '10.20.0.9' });
      await s.next((e) => e.event === 'change');
      s.close();
    }
  });

  await t.test('a disconnected client leaves no listener behind', async (t) => {
    const log = tc.ctl.events.log;
    await until('earlier streams to be gone', () => { open.forEach((s) => s.close()); return log.size === 0; });
    for (let i = 0; i < 20; i++) {
      const s = await events();
      await s.waitRaw(/^id: /);
    }
    t.equal(log.size, 20);
    open.forEach((s) => s.close());
    await until('every listener to be removed', () => log.size === 0);
    t.equal(log.size, 0);
  });
});

t.test('a cursor older than the history gets a reset', async (t) => {
  const tc = await startTestController({ events: { history: 2 } });
  t.teardown(() => tc.stop());
  await tc.admin('POST', '/networks', { name: 'office', cidr: '10.10.0.0/24' });
  const s = await openEvents(tc);
  t.teardown(() => s.close());
  await tc.admin('POST', '/networks/office/dns', { name: 'a', address: '10.10.0.201' });
  const first = await s.next((e) => e.event === 'change');
  for (const n of ['b', 'c', 'd']) await tc.admin('POST', '/networks/office/dns', { name: n, address: '10.10.0.202' });
  const r = await openEvents(tc, { query: `since=${first.id}` });
  t.teardown(() => r.close());
  t.equal((await r.next(() => true)).event, 'reset');
  t.equal(r.events.filter((e) => e.event === 'change').length, 0, 'nothing replayed after a reset');
  // One step inside the history still resumes.
  const second = s.events.filter((e) => e.event === 'change')[2]!;
  await s.next((e) => e.event === 'change' && data(e).upserted !== undefined && (data(e).upserted as { name: string }[])[0]!.name === 'd');
  const ok = await openEvents(tc, { query: `since=${second.id}` });
  t.teardown(() => ok.close());
  const e = await ok.next(() => true);
  t.equal(e.event, 'change');
  t.equal((data(e).upserted as { name: string }[])[0]!.name, 'd');
});

t.test('a ping comment keeps the stream awake', async (t) => {
  const tc = await startTestController({ events: { pingMs: 50 } });
  t.teardown(() => tc.stop());
  const s = await openEvents(tc);
  t.teardown(() => s.close());
  await s.waitRaw(/\n: ping\n\n/, 1000);
  t.pass('pinged');
});

t.test('shutting the controller down ends open streams', async (t) => {
  const tc = await startTestController();
  const s = await openEvents(tc);
  const t0 = Date.now();
  await tc.stop();
  await s.ended;
  t.ok(Date.now() - t0 < 4000, `closed without waiting for the grace period (${Date.now() - t0} ms)`);
});
