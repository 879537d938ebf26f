import t from 'tap';
import tls from 'node:tls';
import http2 from 'node:http2';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { shareAlpnLists, sharedAlpn } from '../../src/controller/tls-alpn.ts';
import { ensureTls } from '../../src/controller/tls.ts';

t.test('sharedAlpn: one unpooled Buffer per distinct list', async (t) => {
  const a = sharedAlpn(Buffer.from('\x02h2', 'latin1'));
  t.equal(sharedAlpn(new Uint8Array([2, 104, 50])), a, 'the same bytes: the same Buffer');
  t.equal(a.buffer.byteLength, 3, 'not a slice of the 64 KB pool');
  t.not(sharedAlpn(Buffer.from('\x08http/1.1', 'latin1')), a);
});

t.test('accepted TLS connections keep no pool chunk for their ALPN list, and still negotiate h2', { timeout: 20_000 }, async (t) => {
  shareAlpnLists();
  shareAlpnLists(); // idempotent
  const dir = await mkdtemp(join(tmpdir(), 'meshctl-alpn-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const m = await ensureTls(dir, ['127.0.0.1']);
  const server = http2.createSecureServer({ key: m.keyPem, cert: m.certPem });
  const sockets: tls.TLSSocket[] = [];
  server.on('secureConnection', (s: tls.TLSSocket) => sockets.push(s));
  server.on('stream', (stream) => {
    stream.respond({ ':status': 200 });
    stream.end('ok');
  });
  server.on('tlsClientError', (err) => t.fail(`tlsClientError: ${err.message}`));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  const port = (server.address() as { port: number }).port;
  const junk: Buffer[] = [];
  for (let i = 0; i < 5; i++) {
    // small Buffers between two connections: each would have taken a new pool chunk
    for (let j = 0; j < 2000; j++) junk.push(Buffer.from('x'.repeat(40)));
    const c = http2.connect(`https://127.0.0.1:${port}`, { ca: m.caCertPem });
    c.on('error', (err) => t.fail(`client: ${err.message}`));
    const req = c.request({ ':path': '/' });
    req.setEncoding('utf8');
    let body = '';
    req.on('data', (d: string) => (body += d));
    await once(req, 'end');
    t.equal(body, 'ok');
    t.equal((c.socket as tls.TLSSocket).alpnProtocol, 'h2');
    c.close();
  }
  t.equal(sockets.length, 5);
  const lists = sockets.map((s) => (s as unknown as { _tlsOptions: { ALPNProtocols: Buffer } })._tlsOptions.ALPNProtocols);
  t.ok(lists.every((b) => b === lists[0]), 'one list shared by every connection');
  t.equal(lists[0]!.buffer.byteLength, 3, 'holding 3 bytes, not a 64 KB pool chunk');
});
