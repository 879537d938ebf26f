// src/net/pinned-ca.ts: trust on first contact, pinned to the CA in the join token.
import t, { type Test } from 'tap';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { createServer as createTcpServer, type Server, type AddressInfo } from 'node:net';
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { fetchPinnedCa } from '../../src/net/pinned-ca.ts';
import { ensureTls, type TlsMaterial } from '../../src/controller/tls.ts';

const listen = async (s: Server | TlsServer) => {
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return `127.0.0.1:${(s.address() as AddressInfo).port}`;
};
const close = (s: Server | TlsServer) => new Promise((r) => s.close(r));

/** A TLS server presenting `leaf` with the chain `chain` (as the controller's gRPC port does). */
async function serve(t: Test, m: TlsMaterial, chain: string[] = [m.caCertPem]): Promise<string> {
  const s = createTlsServer({ key: m.keyPem, cert: [m.certPem, ...chain].map((p) => p.trim() + '\n').join(''), ALPNProtocols: ['h2'] }, (sock) => sock.end());
  s.on('tlsClientError', () => {});
  t.teardown(() => close(s));
  return listen(s);
}

const root = t.testdir({ a: {}, b: {} });
const ctlA = await ensureTls(join(root, 'a'), ['127.0.0.1']);
const ctlB = await ensureTls(join(root, 'b'), ['127.0.0.1']);

t.test('the CA matching the pin is returned, and it signed the server certificate', async (t) => {
  const addr = await serve(t, ctlA);
  const pem = await fetchPinnedCa(addr, ctlA.caPin);
  t.equal(new X509Certificate(pem).fingerprint256, new X509Certificate(ctlA.caCertPem).fingerprint256);
});

t.test("another controller's chain, or a wrong pin, is TLS_PIN_MISMATCH", async (t) => {
  const addrB = await serve(t, ctlB);
  await t.rejects(fetchPinnedCa(addrB, ctlA.caPin), { code: 'TLS_PIN_MISMATCH', message: `the controller at ${addrB} did not present the CA pinned in the join token` });
  const addrA = await serve(t, ctlA);
  await t.rejects(fetchPinnedCa(addrA, 'sha256:' + '0'.repeat(64)), { code: 'TLS_PIN_MISMATCH' });
});

t.test('the pinned CA shown beside a certificate it did not sign is refused', async (t) => {
  // B's server certificate, with A's CA (the pinned one) appended to the chain
  const addr = await serve(t, ctlB, [ctlB.caCertPem, ctlA.caCertPem]);
  await t.rejects(fetchPinnedCa(addr, ctlA.caPin), { code: 'TLS_PIN_MISMATCH' });
});

t.test('nothing listening is UNREACHABLE, with the hint', async (t) => {
  const s = createTcpServer();
  const addr = await listen(s);
  await close(s);
  await t.rejects(fetchPinnedCa(addr, ctlA.caPin), { code: 'UNREACHABLE', message: `cannot reach the controller at ${addr}: ECONNREFUSED`, hint: /meshctl server/ });
});

t.test('a peer that never speaks TLS times out as UNREACHABLE', async (t) => {
  const s = createTcpServer(() => {});
  t.teardown(() => { s.close(); });
  const addr = await listen(s);
  const t0 = Date.now();
  await t.rejects(fetchPinnedCa(addr, ctlA.caPin, 300), { code: 'UNREACHABLE', message: /timed out/ });
  t.ok(Date.now() - t0 < 5000, 'within the timeout, not the default 10 s');
});
