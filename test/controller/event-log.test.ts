// The event stream's hub with fake sinks: one serialisation per event, a slow reader dropped with
// a reset while the others keep getting theirs, replay bounds, ping.
import t from 'tap';
import { EventLog, type EventSink } from '../../src/controller/events/event-log.ts';
import { SseParser } from '../../src/core/sse.ts';

function sink(opts: { buffered?: () => number; throws?: boolean } = {}) {
  const chunks: string[] = [];
  let ended = false;
  const s: EventSink & { chunks: string[]; ended: () => boolean; events: () => ReturnType<SseParser['feed']> } = {
    chunks,
    write: (c) => {
      if (opts.throws) throw new Error('write after end');
      chunks.push(c);
    },
    buffered: opts.buffered ?? (() => 0),
    end: () => (ended = true),
    ended: () => ended,
    events: () => new SseParser().feed(chunks.join('')),
  };
  return s;
}

t.test('every subscriber gets the same frame object: serialised once', async (t) => {
  const log = new EventLog({ epoch: 'ab', pingMs: 0 });
  const a = sink();
  const b = sink();
  log.subscribe(a);
  log.subscribe(b);
  let calls = 0;
  const data = { toJSON: () => (calls++, { kind: 'dns' }) };
  log.publish('change', 'office', data);
  t.equal(calls, 1, 'JSON made once for two subscribers');
  t.equal(a.chunks.at(-1), b.chunks.at(-1));
  t.equal(a.chunks.at(-1), 'event: change\nid: ab-1\ndata: {"kind":"dns"}\n\n');
});

t.test('a subscriber that stops reading is dropped with a reset; the others are not held up', async (t) => {
  const log = new EventLog({ epoch: 'ab', pingMs: 0, maxBuffered: 100 });
  let backlog = 0;
  const slow = sink({ buffered: () => backlog });
  const fast = sink();
  log.subscribe(slow);
  log.subscribe(fast);
  for (let i = 0; i < 50; i++) {
    log.publish('change', 'office', { kind: 'dns', i });
    backlog += 30; // the slow one never drains
  }
  t.equal(fast.events().filter((e) => e.event === 'change').length, 50, 'the fast one got all 50');
  t.ok(slow.ended(), 'the slow one was ended');
  const se = slow.events();
  t.equal(se.at(-1)!.event, 'reset', 'its last event is a reset');
  t.ok(se.filter((e) => e.event === 'change').length < 10, 'and it got few changes before that');
  t.equal(log.size, 1);
  t.equal(log.dropped, 1);
});

t.test('a sink that throws is removed and does not stop the others', async (t) => {
  const log = new EventLog({ epoch: 'ab', pingMs: 0 });
  const bad = sink({ throws: false });
  const good = sink();
  log.subscribe(bad);
  log.subscribe(good);
  (bad as { write: EventSink['write'] }).write = () => { throw new Error('closed'); };
  log.publish('change', 'office', { kind: 'dns' });
  t.equal(good.events().length, 1);
  t.equal(log.size, 1);
});

t.test('resume: replays after the cursor, filtered by network; resets outside the history', async (t) => {
  const log = new EventLog({ epoch: 'ab', pingMs: 0, history: 3 });
  t.equal(log.cursor(), 'ab-0');
  const fresh = sink();
  log.subscribe(fresh, { since: 'ab-0' });
  t.same(fresh.events(), [], 'nothing to replay at the start');
  t.equal(new SseParser().feed(fresh.chunks.join('')).length, 0);
  for (const net of ['a', 'b', 'a', 'b']) log.publish('change', net, { net });
  // history 3: seqs 2..4 kept; resuming from 1 is fine (2.. are there), from 0 is not.
  const r1 = sink();
  log.subscribe(r1, { since: 'ab-1', network: 'a' });
  t.same(r1.events().map((e) => [e.event, e.id]), [['change', 'ab-3']]);
  const p = new SseParser();
  p.feed(r1.chunks.join(''));
  t.equal(p.lastEventId, 'ab-4', 'ends at the current cursor even when the last event was filtered out');
  const r0 = sink();
  log.subscribe(r0, { since: 'ab-0' });
  t.same(r0.events().map((e) => e.event), ['reset']);
  t.equal(r0.events()[0]!.id, 'ab-4');
  const current = sink();
  log.subscribe(current, { since: 'ab-4' });
  t.same(current.events(), []);
  const none = sink();
  log.subscribe(none);
  t.same(none.events(), [], 'no replay without a cursor');
  t.match(none.chunks[0], /^id: ab-4\n\n$/);
});

t.test('ping every interval, only while someone listens; unsubscribe is idempotent', async (t) => {
  const log = new EventLog({ epoch: 'ab', pingMs: 20 });
  const s = sink();
  const off = log.subscribe(s);
  await new Promise((r) => setTimeout(r, 90));
  t.ok(s.chunks.filter((c) => c === ': ping\n\n').length >= 2, 'pinged');
  off();
  off();
  t.equal(log.size, 0);
  const n = s.chunks.length;
  await new Promise((r) => setTimeout(r, 60));
  t.equal(s.chunks.length, n, 'no ping after unsubscribe');
  const s2 = sink();
  log.subscribe(s2);
  log.close();
  t.ok(s2.ended());
  t.equal(log.size, 0);
});

t.test('the feed: a change becomes a change event with the node\'s public fields; a resync a reset of its network', async (t) => {
  const { startEventFeed } = await import('../../src/controller/events/feed.ts');
  let listener: (c: import('../../src/core/change.ts').Change) => void = () => {};
  const feed = startEventFeed((l) => ((listener = l), () => {}), async () => [], async () => undefined, { pingMs: 0, sweepMs: 0, epoch: 'ab' });
  t.teardown(() => feed.close());
  const office = sink();
  const lab = sink();
  feed.log.subscribe(office, { network: 'office' });
  feed.log.subscribe(lab, { network: 'lab' });
  const node = { id: 'i1', name: 'n1', address: '10.0.0.1', publicKey: 'pk', endpoint: null, listenPort: 51820, approved: true, credentialHash: 'secret-hash', createdAt: 'x', lastCheckin: null, endpointStated: false };
  listener({ kind: 'node-upserted', network: 'office', version: 3, node, keepalive: 20 });
  listener({ kind: 'resync', network: 'office', version: 4 });
  const evs = office.events();
  t.same(evs.map((e) => e.event), ['change', 'reset']);
  t.same(JSON.parse(evs[0]!.data).node, { id: 'i1', name: 'n1', address: '10.0.0.1', publicKey: 'pk', endpoint: null, listenPort: 51820, approved: true });
  t.equal(evs[1]!.data, '{}');
  t.same(lab.events(), [], 'another network\'s subscribers hear nothing');
});
