// The standalone relay's link to a controller (real gRPC on loopback, a real Relay): it registers
// with the relay token, opens and closes pairs on command, re-attaches holding its pairs after a
// controller restart, and a wrong secret never attaches.
import t from 'tap';
import dgram from 'node:dgram';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestController } from '../helpers/controller.ts';
import { startRelayLink } from '../../src/relay/link.ts';
import { decodeRelayToken, encodeRelayToken } from '../../src/core/relay-token.ts';
import type { RelayPool } from '../../src/controller/nat/relay-pool.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(what: string, f: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(20);
  }
}
const spec = { id: 'a|b', network: 'office', a: 'a', b: 'b', expectA: '127.0.0.1', expectB: null };

t.test('a relay registers, serves the pairs the controller opens, and says which it holds after a controller restart', async (t) => {
  let c = await startTestController({ grpc: true });
  const dataDir = c.dataDir;
  const grpcPort = c.ctl.grpcPort!;
  t.teardown(() => c.stop());
  const token = (await readFile(join(dataDir, 'relay.token'), 'utf8')).trim();
  t.same(decodeRelayToken(token).servers, [`127.0.0.1:${grpcPort}`], 'the token names the node API');
  const lines: string[] = [];
  const link = await startRelayLink({ token, name: 'edge1', publicHost: '127.0.0.1', bind: { host: '127.0.0.1', port: 0 }, log: (m) => void lines.push(m) });
  t.teardown(() => link.stop());
  const pool = (): RelayPool => c.ctl.relays;
  await until('the relay is attached', () => pool().list().some((r) => r.name === 'edge1'));
  t.ok(link.port > 0);
  const a = await pool().open(spec);
  t.equal(a.relay, 'edge1');
  t.equal(a.host, '127.0.0.1');
  t.ok(a.ports.every((p) => p > 0) && a.ports[0] !== a.ports[1], `two ports of its own: ${a.ports}`);

  // Datagrams shaped like WireGuard messages pass between the two ports.
  const s1 = dgram.createSocket('udp4');
  const s2 = dgram.createSocket('udp4');
  t.teardown(() => (s1.close(), s2.close()));
  await Promise.all([s1, s2].map((s) => new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()))));
  const init = Buffer.alloc(148);
  init[0] = 1;
  const got = new Promise<Buffer>((r) => s1.once('message', (m) => r(m)));
  s1.send(init, a.ports[0], '127.0.0.1');
  await sleep(50);
  s2.send(init, a.ports[1], '127.0.0.1');
  t.equal((await got).length, 148, 'a handshake initiation crossed the relay');

  c.ctl.relays.close(a.id);
  await until('a close command closes the pair', () => lines.some((l) => /pair a\|b closed/.test(l)));
  await c.ctl.relays.open(spec);

  // The controller restarts: the relay keeps its pair and re-attaches saying it holds it. (These
  // node ids are no members of any network: the controller closes the pair. With real nodes it
  // keeps it: test/e2e/relay.e2e.test.ts.)
  await c.ctl.close();
  lines.length = 0;
  c = await startTestController({ grpc: true, dataDir, grpcPort });
  await until('the relay is attached again', () => c.ctl.relays.list().some((r) => r.name === 'edge1'));
  await until('it said it holds the pair', () => lines.some((l) => /holding 1 pair/.test(l)));
  await until('the pair of unknown nodes is closed', () => lines.some((l) => /pair a\|b closed/.test(l)));
  t.same(c.ctl.relays.assignments(), []);

  await link.stop();
  await until('the relay is detached', () => !c.ctl.relays.list().some((r) => r.name === 'edge1'));
});

t.test('a relay with a wrong secret is refused and never attaches', async (t) => {
  const c = await startTestController({ grpc: true });
  t.teardown(() => c.stop());
  const token = decodeRelayToken((await readFile(join(c.dataDir, 'relay.token'), 'utf8')).trim());
  const lines: string[] = [];
  const link = await startRelayLink({ token: encodeRelayToken({ ...token, secret: 'y'.repeat(43) }), name: 'rogue', publicHost: '127.0.0.1', bind: { host: '127.0.0.1', port: 0 }, log: (m) => void lines.push(m) });
  t.teardown(() => link.stop());
  await until('refused', () => lines.some((l) => /relay secret/.test(l)));
  t.same(c.ctl.relays.list(), [], 'no relay attached');
  t.equal(link.attached(), false);
});
