// The responder on the wire: dns-packet in and out, over real UDP and TCP sockets on loopback.
// Includes the fuzz check: 100,000+ random and mutated packets, after which it still answers.
import t from 'tap';
import * as packet from 'dns-packet';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { respond, AnswerCache } from '../../src/agent/dns/responder.ts';
import { DnsServer } from '../../src/agent/dns/server.ts';
import { ZoneSet } from '../../src/core/dns-answer.ts';
import { zoneOf } from '../../src/core/dns-zone.ts';
import { buildView, type ViewNode } from '../../src/core/view.ts';
import { newNetwork } from '../../src/core/network.ts';

const node = (i: number): ViewNode => ({ id: `id${i}`, name: `n${i}`, address: `10.10.0.${i}`, publicKey: `pk${i}`, endpoint: null, listenPort: 51821, approved: true });
const view = buildView(node(1), { ...newNetwork({ name: 'office', cidr: '10.10.0.0/24' }), version: 3 }, [node(1), node(2), node(3)], [], [{ name: 'printer', type: 'A', address: '10.10.0.200' }]);
const zones = new ZoneSet();
zones.set(zoneOf(view));

const query = (name: string, type = 'A', id = 7, edns = false) =>
  packet.encode({
    type: 'query', id, flags: packet.RECURSION_DESIRED, questions: [{ type, name, class: 'IN' }],
    ...(edns ? { additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 4096, flags: 0, options: [] }] } : {}),
  } as unknown as packet.Packet);
const decode = (b: Buffer | null) => packet.decode(b!) as unknown as packet.Packet & { rcode: string; flag_aa: boolean; flag_rd: boolean; flag_qr: boolean };

t.test('a query for a node gets its address, authoritative, with the id and question echoed', async (t) => {
  const r = decode(respond(zones, query('n2.office.internal'), true));
  t.equal(r.id, 7);
  t.equal(r.type, 'response');
  t.equal(r.rcode, 'NOERROR');
  t.equal(r.flag_aa, true);
  t.equal(r.flag_rd, true);
  t.same(r.questions, [{ name: 'n2.office.internal', type: 'A', class: 'IN' }]);
  t.same(r.answers?.map((a) => [a.name, a.type, (a as { data: string }).data, (a as { ttl: number }).ttl]), [['n2.office.internal', 'A', '10.10.0.2', 5]]);
  const e = decode(respond(zones, query('printer.office.internal', 'A', 9, true), true));
  t.equal(e.additionals?.[0]?.type, 'OPT', 'EDNS is answered with EDNS');
  t.equal((e.answers?.[0] as { data: string }).data, '10.10.0.200');
});

t.test('NXDOMAIN inside the domain, REFUSED outside, NOTIMP for other opcodes', async (t) => {
  t.equal(decode(respond(zones, query('zz.office.internal'), true)).rcode, 'NXDOMAIN');
  t.equal(decode(respond(zones, query('example.com'), true)).rcode, 'REFUSED');
  t.equal(decode(respond(zones, query('example.com'), true)).answers?.length, 0);
  const notify = packet.encode({ type: 'query', id: 1, flags: 4 << 11, questions: [{ type: 'SOA', name: 'office.internal' }] } as unknown as packet.Packet);
  t.equal(decode(respond(zones, notify, true)).rcode, 'NOTIMP');
  const two = packet.encode({ type: 'query', id: 1, questions: [{ type: 'A', name: 'n1.office.internal' }, { type: 'A', name: 'n2.office.internal' }] } as unknown as packet.Packet);
  t.equal(decode(respond(zones, two, true)).rcode, 'FORMERR');
});

t.test('cached answers carry the asker\'s id and RD bit, and a zone change empties the cache', async (t) => {
  const z = new ZoneSet();
  z.set(zoneOf(view));
  const cache = new AnswerCache();
  const first = decode(respond(z, query('printer.office.internal', 'A', 11), true, undefined, cache));
  t.equal(first.id, 11);
  const noRd = packet.encode({ type: 'query', id: 12, flags: 0, questions: [{ type: 'A', name: 'printer.office.internal', class: 'IN' }] } as unknown as packet.Packet);
  const again = decode(respond(z, noRd, true, undefined, cache));
  t.equal(again.id, 12);
  t.equal(again.flag_rd, false);
  t.equal((again.answers?.[0] as { data: string }).data, '10.10.0.200');
  z.set(zoneOf({ ...view, records: [{ name: 'printer', type: 'A', address: '10.10.0.201' }], version: 4 }));
  const moved = decode(respond(z, query('printer.office.internal', 'A', 13), true, undefined, cache));
  t.equal((moved.answers?.[0] as { data: string }).data, '10.10.0.201', 'not the cached old address');
  z.delete('office.internal');
  t.equal(decode(respond(z, query('printer.office.internal'), true, undefined, cache)).rcode, 'REFUSED', 'a zone gone is gone from the cache too');
});

t.test('junk and responses are dropped, never answered', async (t) => {
  t.equal(respond(zones, Buffer.alloc(0), true), null);
  t.equal(respond(zones, Buffer.from([1, 2, 3]), true), null);
  const resp = packet.encode({ type: 'response', id: 1, questions: [{ type: 'A', name: 'n1.office.internal' }], answers: [] } as unknown as packet.Packet);
  t.equal(respond(zones, resp, true), null, 'a response is not answered (no reflection loops)');
  const truncated = query('n2.office.internal').subarray(0, 20);
  t.equal(respond(zones, truncated, true), null);
});

/** Seeded xorshift, so that a failing run can be repeated. */
function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x / 0x100000000;
  };
}

function fuzzPacket(rand: () => number, seeds: Buffer[]): Buffer {
  if (rand() < 0.3) {
    const len = Math.floor(rand() * 600);
    const b = Buffer.allocUnsafe(len);
    for (let i = 0; i < len; i++) b[i] = Math.floor(rand() * 256);
    return b;
  }
  const b = Buffer.from(seeds[Math.floor(rand() * seeds.length)]!);
  const flips = 1 + Math.floor(rand() * 6);
  for (let i = 0; i < flips && b.length; i++) b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
  const cut = rand();
  if (cut < 0.15) return b.subarray(0, Math.floor(rand() * b.length));
  if (cut < 0.25) return Buffer.concat([b, Buffer.from(Array.from({ length: Math.floor(rand() * 40) }, () => Math.floor(rand() * 256)))]);
  return b;
}

const seeds = [
  query('n2.office.internal'), query('printer.office.internal', 'A', 1, true), query('example.com', 'MX'),
  query('office.internal', 'SOA'), query('n1.office.internal', 'AAAA'), query('zz.office.internal', 'TXT'),
  // a compression pointer loop, and a label that points past the end
  Buffer.from('000101000001000000000000c00c00010001', 'hex'), Buffer.from('00010100000100000000000003616263c0ff00010001', 'hex'),
];

t.test('fuzz: 100,000 random and mutated messages through respond(); it never throws', async (t) => {
  const rand = rng(12345);
  let answered = 0;
  for (let i = 0; i < 100_000; i++) {
    const out = respond(zones, fuzzPacket(rand, seeds), i % 2 === 0);
    if (out) answered++;
  }
  t.ok(answered > 0, `${answered} of 100000 were well-formed enough to answer`);
  t.equal(decode(respond(zones, query('n2.office.internal'), true)).answers?.length, 1);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function udpAsk(port: number, msg: Buffer, timeoutMs = 2000): Promise<Buffer> {
  const s = createSocket('udp4');
  try {
    return await new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no UDP answer')), timeoutMs);
      s.on('message', (m) => {
        clearTimeout(timer);
        resolve(m);
      });
      s.send(msg, port, '127.0.0.1');
    });
  } finally {
    s.close();
  }
}

async function tcpAsk(port: number, msgs: Buffer[], timeoutMs = 2000): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const c = connect({ host: '127.0.0.1', port });
    const out: Buffer[] = [];
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => {
      c.destroy();
      reject(new Error(`TCP: ${out.length} of ${msgs.length} answers`));
    }, timeoutMs);
    c.on('connect', () => {
      for (const m of msgs) {
        const f = Buffer.alloc(2 + m.length);
        f.writeUInt16BE(m.length, 0);
        m.copy(f, 2);
        c.write(f);
      }
    });
    c.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        out.push(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        buf = buf.subarray(2 + buf.readUInt16BE(0));
      }
      if (out.length === msgs.length) {
        clearTimeout(timer);
        c.end();
        resolve(out);
      }
    });
    c.on('error', reject);
  });
}

t.test('the server answers over UDP and TCP, survives 100,000 fuzzed datagrams and junk streams, and still answers', async (t) => {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const server = new DnsServer({ port });
  t.teardown(() => server.close());
  server.zones.set(zoneOf(view));
  await server.listen('127.0.0.1');
  await server.listen('127.0.0.1'); // twice changes nothing
  t.same(server.addresses, ['127.0.0.1']);
  t.equal((decode(await udpAsk(port, query('n3.office.internal'))).answers?.[0] as { data: string }).data, '10.10.0.3');
  const [a, b] = await tcpAsk(port, [query('n2.office.internal', 'A', 1), query('example.com', 'A', 2)]);
  t.equal((decode(a!).answers?.[0] as { data: string }).data, '10.10.0.2');
  t.equal(decode(b!).rcode, 'REFUSED');

  const rand = rng(777);
  const s = createSocket('udp4');
  t.teardown(() => s.close());
  for (let i = 0; i < 100_000; i += 250) {
    for (let j = 0; j < 250; j++) s.send(fuzzPacket(rand, seeds), port, '127.0.0.1');
    await new Promise((r) => setImmediate(r));
    if (i % 10_000 === 0) await sleep(5);
  }
  await sleep(200);
  t.ok(server.counters.dropped + server.counters.answered > 10_000, `the server saw the fuzz (answered ${server.counters.answered}, dropped ${server.counters.dropped})`);
  // Junk on TCP: the connection is closed, the server goes on.
  for (let i = 0; i < 200; i++) {
    const c = connect({ host: '127.0.0.1', port });
    c.on('error', () => {});
    c.write(fuzzPacket(rand, seeds));
    c.end();
  }
  await sleep(200);
  t.equal((decode(await udpAsk(port, query('n2.office.internal'))).answers?.[0] as { data: string }).data, '10.10.0.2', 'UDP still answers');
  t.equal(decode((await tcpAsk(port, [query('n1.office.internal')]))[0]!).rcode, 'NOERROR', 'TCP still answers');
  await server.unlisten('127.0.0.1');
  t.same(server.addresses, []);
  await t.rejects(udpAsk(port, query('n2.office.internal'), 300), 'after unlisten nothing answers');
});
