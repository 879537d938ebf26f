// Issue 8 item 5: `meshctl server` finishes shutting down within a deadline even when clients
// hold connections open and stop reading (as a vanished node's half-open connection does):
// it stops accepting at once, gives open ones a few seconds, closes them hard and exits 0.
import t from 'tap';
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../helpers/server-process.ts';

t.setTimeout(90_000);

t.test('SIGTERM with half-open clients on both APIs: exit 0 within the grace period plus a margin', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'meshctl-shutdown-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const s = await startServer(dir, { timeoutMs: 60_000 });
  t.teardown(() => s.kill9());
  const apiPort = Number(new URL(s.url).port);
  const grpcPort = Number(/--grpc-addr 127\.0\.0\.1:(\d+)/.exec(s.proc.spawnargs.join(' '))?.[1]);
  const sockets: Socket[] = [];
  t.teardown(() => sockets.forEach((x) => x.destroy()));
  const opened = (sock: Socket, ev = 'connect') => new Promise<void>((resolve, reject) => (sockets.push(sock), sock.once(ev, () => resolve()), sock.once('error', reject)));
  // 1. A request that never finishes its headers.
  const partial = connect(apiPort, '127.0.0.1');
  await opened(partial);
  partial.write('GET /api/v1/networks HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ');
  // 2. A client that asks for a large document again and again and never reads an answer.
  const stuck = connect(apiPort, '127.0.0.1');
  await opened(stuck);
  stuck.pause();
  stuck.write('GET /api/v1/openapi.json HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(2000));
  // 3. A TLS session to the node API that then says nothing and reads nothing.
  const quiet = tlsConnect({ host: '127.0.0.1', port: grpcPort, rejectUnauthorized: false, ALPNProtocols: ['h2'] });
  await opened(quiet, 'secureConnect');
  quiet.pause();
  await new Promise((r) => setTimeout(r, 500));

  const t0 = Date.now();
  const exited = await Promise.race([s.stop(), new Promise<'hung'>((r) => setTimeout(() => r('hung'), 20_000))]);
  const ms = Date.now() - t0;
  t.not(exited, 'hung', `the server exits within 20 s of SIGTERM:\n${s.stderr().slice(-2000)}`);
  if (exited === 'hung') return;
  t.same(exited, { code: 0, signal: null }, 'with exit code 0');
  t.ok(ms < 12_000, `it took ${ms} ms (grace 5 s + margin)`);
  t.match(s.stderr(), /"msg":"shutting down/);
  t.match(s.stderr(), /"msg":"shut down"/, 'and says it finished');
});
