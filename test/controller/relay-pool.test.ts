// RelayPool: which relay gets a pair, what happens when a relay goes away or comes back, and the
// assignments kept across a restart (a real Relay binding the same ports again).
import t from 'tap';
import pino from 'pino';
import { mkdtemp, rm, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RelayPool, LOCAL_RELAY, type RelayAssignment, type RelayBackend, type RelayPairSpec } from '../../src/controller/nat/relay-pool.ts';
import { Relay } from '../../src/relay/relay.ts';
import { pickRelay } from '../../src/core/relay-token.ts';

const log = pino({ level: 'silent' });
const spec = (id: string): RelayPairSpec => ({ id, network: 'office', a: id.split('|')[0]!, b: id.split('|')[1]!, expectA: null, expectB: null });

function fake(name: string, host: string) {
  const opened: string[] = [];
  const closed: string[] = [];
  let port = 40000;
  const b: RelayBackend = { name, host, open: async (s) => (opened.push(s.id), [++port, ++port]), close: (id) => void closed.push(id) };
  return { b, opened, closed };
}

function listen(pool: RelayPool) {
  const adopted: RelayAssignment[] = [];
  const lost: RelayAssignment[] = [];
  pool.setListener({ adopt: (a) => void adopted.push(a), lost: (a) => void lost.push(a) });
  return { adopted, lost };
}

t.test('pairs spread over relays by rendezvous hashing; a relay that goes away loses only its pairs', async (t) => {
  const pool = new RelayPool(log, null);
  const ev = listen(pool);
  t.equal(pool.available(), false);
  await t.rejects(pool.open(spec('a|b')), /no relay/);
  await pool.start(null);
  const r1 = fake('r1', '198.51.100.1');
  const r2 = fake('r2', '198.51.100.2');
  pool.attach(r1.b, []);
  pool.attach(r2.b, []);
  const ids = ['a|b', 'a|c', 'b|c', 'c|d', 'd|e', 'a|e'];
  const got = await Promise.all(ids.map((id) => pool.open(spec(id))));
  for (const g of got) t.equal(g.relay, pickRelay(g.id, ['r1', 'r2']), `${g.id} on the relay the hash picks`);
  t.ok(got.some((g) => g.relay === 'r1') && got.some((g) => g.relay === 'r2'), 'both relays serve pairs');
  t.same(await pool.open(spec('a|b')), got[0], 'opening an assigned pair again returns it');
  t.same(pool.list().map((r) => r.pairs).reduce((x, y) => x + y), ids.length);
  pool.detach(r1.b);
  t.same(ev.lost.map((a) => a.id).sort(), got.filter((g) => g.relay === 'r1').map((g) => g.id).sort(), 'r1\'s pairs are lost, no other');
  const moved = await pool.open(spec(ev.lost[0]!.id));
  t.equal(moved.relay, 'r2', 'a lost pair opens on the remaining relay');
  pool.close('a|b');
  t.ok(got[0]!.relay === 'r1' || r2.closed.includes('a|b'), 'closing tells the relay');
  await pool.stop();
});

t.test('a relay that attaches again: pairs it holds are kept, ones it lost are lost, ones moved elsewhere it closes', async (t) => {
  const pool = new RelayPool(log, null);
  const ev = listen(pool);
  await pool.start(null);
  const r1 = fake('r1', '198.51.100.1');
  pool.attach(r1.b, []);
  const x = await pool.open(spec('a|b'));
  const y = await pool.open(spec('c|d'));
  const r1again = fake('r1', '198.51.100.1');
  const r2 = fake('r2', '198.51.100.2');
  pool.attach(r2.b, [{ ...x, relay: 'r2' }]);
  t.same(r2.closed, ['a|b'], 'a pair held by another relay is closed where it does not belong');
  pool.attach(r1again.b, [x]);
  t.same(ev.lost.map((a) => a.id), [y.id], 'the pair the re-attached relay no longer holds is lost');
  t.same(ev.adopted, [], 'the pair it still holds needs no change');
  pool.detach(r1.b);
  t.equal(ev.lost.length, 1, 'the replaced stream ending changes nothing');
  pool.attach(r1again.b, [x, { ...spec('e|f'), relay: 'r1', host: '198.51.100.1', ports: [40101, 40102] }]);
  t.same(ev.adopted.map((a) => a.id), ['e|f'], 'a pair the controller did not know is adopted');
  await pool.stop();
});

t.test('a restart: the controller\'s own relay binds the same ports again; a standalone relay\'s pairs wait for it, then are lost', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'relay-pool-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'relay-pairs.json');
  const local = (r: Relay): RelayBackend => ({ name: LOCAL_RELAY, host: '127.0.0.1', open: async (s, ports) => (await r.open(s.id, s.expectA, s.expectB, ports)).ports, close: (id) => r.close(id) });

  let relay = new Relay({ host: '127.0.0.1', port: 0 });
  await relay.start();
  let pool = new RelayPool(log, file, 200);
  listen(pool);
  await pool.start(local(relay));
  const remote = fake('far', '198.51.100.9');
  pool.attach(remote.b, []);
  const opened: RelayAssignment[] = [];
  for (let i = 0; opened.filter((a) => a.relay === LOCAL_RELAY).length === 0 || opened.filter((a) => a.relay === 'far').length === 0; i++) opened.push(await pool.open(spec(`n${i}|z${i}`)));
  await pool.stop();
  await relay.stop();
  const saved = JSON.parse(await readFile(file, 'utf8')) as { pairs: RelayAssignment[] };
  t.equal(saved.pairs.length, opened.length, 'every assignment is on disk');

  relay = new Relay({ host: '127.0.0.1', port: 0 });
  await relay.start();
  t.teardown(() => relay.stop());
  pool = new RelayPool(log, file, 200);
  const ev = listen(pool);
  await pool.start(local(relay));
  const mine = opened.filter((a) => a.relay === LOCAL_RELAY);
  const theirs = opened.filter((a) => a.relay === 'far');
  t.same(ev.adopted.map((a) => a.id).sort(), opened.map((a) => a.id).sort(), 'every pair is handed back at start');
  for (const a of mine) t.same(relay.list().find((p) => p.id === a.id)?.ports, a.ports, `${a.id}: the same ports on the new relay`);
  await new Promise((r) => setTimeout(r, 400));
  t.same(ev.lost.map((a) => a.id).sort(), theirs.map((a) => a.id).sort(), 'the standalone relay did not come back: its pairs are lost');
  await pool.stop();
});

t.test('stopping keeps the pairs: the relays\' streams ending with the controller move nothing', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'relay-pool-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'relay-pairs.json');
  const pool = new RelayPool(log, file);
  const ev = listen(pool);
  await pool.start(null);
  const r1 = fake('r1', '198.51.100.1');
  pool.attach(r1.b, []);
  await pool.open(spec('a|b'));
  await pool.stop();
  pool.detach(r1.b);
  t.same(ev.lost, [], 'nothing lost');
  t.equal((JSON.parse(await readFile(file, 'utf8')) as { pairs: unknown[] }).pairs.length, 1, 'the pair is on disk');
});
