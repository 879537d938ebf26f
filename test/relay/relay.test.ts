// The relay on loopback: real UDP sockets standing in for two nodes.
import t from 'tap';
import dgram from 'node:dgram';
import { Relay, PROBE } from '../../src/relay/relay.ts';

const sock = async () => {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const got: Buffer[] = [];
  s.on('message', (m) => got.push(m));
  return { s, got, port: s.address().port, send: (b: Buffer, port: number) => new Promise<void>((r) => s.send(b, port, '127.0.0.1', () => r())) };
};
const wg = (type: number, len: number, fill = 0) => {
  const b = Buffer.alloc(len, fill);
  b[0] = type;
  b[1] = b[2] = b[3] = 0;
  return b;
};
const settle = () => new Promise((r) => setTimeout(r, 50));

t.test('forwards WireGuard datagrams between the two locked sources, and nothing else', async (t) => {
  const relay = new Relay({ host: '127.0.0.1', port: 0 });
  await relay.start();
  t.teardown(() => relay.stop());
  const pair = await relay.open('p1', '127.0.0.1', '127.0.0.1');
  const [pa, pb] = pair.ports;
  const a = await sock();
  const b = await sock();
  const intruder = await sock();
  t.teardown(() => [a, b, intruder].forEach((x) => x.s.close()));

  await a.send(wg(1, 148), pa); // B has not spoken yet: nowhere to send it
  await settle();
  t.equal(pair.stats()[0].dropped.noPeerYet, 1);
  await b.send(wg(2, 92), pb);
  await settle();
  t.equal(a.got.length, 1, 'B -> A');
  t.equal(a.got[0]!.length, 92);
  await a.send(wg(4, 48, 7), pa);
  await settle();
  t.equal(b.got.length, 1, 'A -> B');
  t.same(b.got[0], wg(4, 48, 7), 'bytes unchanged');

  await a.send(Buffer.from('GET / HTTP/1.1\r\n\r\n0123456789abcdef'), pa);
  await intruder.send(wg(4, 48), pa); // a second source while A is active
  await settle();
  t.equal(b.got.length, 1, 'neither a non-WireGuard datagram nor a second source gets through');
  t.equal(pair.stats()[0].dropped.notWireGuard, 1);
  t.equal(pair.stats()[0].dropped.wrongSource, 1);
  t.equal(pair.stats()[0].locked, `127.0.0.1:${a.port}`);
});

t.test('a node whose NAT mapped it anew is taken at its new source once the old one is quiet', async (t) => {
  const relay = new Relay({ host: '127.0.0.1', port: 0, relockAfterMs: 100 });
  await relay.start();
  t.teardown(() => relay.stop());
  const pair = await relay.open('p2', null, null);
  const a1 = await sock();
  const a2 = await sock();
  const b = await sock();
  t.teardown(() => [a1, a2, b].forEach((x) => x.s.close()));
  await b.send(wg(4, 32), pair.ports[1]);
  await a1.send(wg(4, 32), pair.ports[0]);
  await settle();
  await new Promise((r) => setTimeout(r, 150));
  await a2.send(wg(4, 32), pair.ports[0]);
  await b.send(wg(4, 32), pair.ports[1]);
  await settle();
  t.equal(pair.stats()[0].locked, `127.0.0.1:${a2.port}`);
  t.equal(a2.got.length, 1, 'B reaches A at its new source');
});

t.test('a datagram from a host other than the expected one is refused; the rate limit holds', async (t) => {
  const relay = new Relay({ host: '127.0.0.1', port: 0, bytesPerSecond: 1000, burstBytes: 200 });
  await relay.start();
  t.teardown(() => relay.stop());
  const wrong = await relay.open('p3', '192.0.2.1', null);
  const a = await sock();
  t.teardown(() => a.s.close());
  await a.send(wg(4, 32), wrong.ports[0]);
  await settle();
  t.equal(wrong.stats()[0].dropped.wrongSource, 1);
  const p = await relay.open('p4', null, null);
  for (let k = 0; k < 10; k++) await a.send(wg(4, 64), p.ports[0]);
  await settle();
  t.ok(p.stats()[0].dropped.rateLimited >= 6, `rate limited: ${JSON.stringify(p.stats()[0].dropped)}`);
});

t.test('the well-known port answers a probe with the address it came from', async (t) => {
  const relay = new Relay({ host: '127.0.0.1', port: 0 });
  const port = await relay.start();
  t.teardown(() => relay.stop());
  const a = await sock();
  t.teardown(() => a.s.close());
  await a.send(Buffer.from(PROBE), port);
  await settle();
  t.equal(a.got[0]?.toString(), `${PROBE} 127.0.0.1:${a.port}`);
});
