// Issue 8 item 9: messages say what happened and what to do, in the user's terms: wireguard-go's
// start-up banner is never given as the reason; grpc-js's raw text (ECONNREFUSED … Resolution
// note) does not reach users; a wrong secret is not reported as an unknown key. (The agent's log
// after the user's own leave is in teardown.test.ts.)
import t from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join as pathJoin } from 'node:path';
import { FakeRunner } from '../../src/platform/fake-runner.ts';
import { ensureInterface } from '../../src/platform/wireguard.ts';
import { NodeClient } from '../../src/agent/client.ts';
import { freePort } from '../helpers/server-process.ts';
import { startTestController } from '../helpers/controller.ts';
import { multiHost } from '../helpers/host-sim.ts';
import { join } from '../../src/agent/node.ts';
import { decodeJoinToken, encodeJoinToken } from '../../src/core/join-token.ts';

const BANNER = [
  '┌──────────────────────────────────────────────────────┐',
  '│                                                      │',
  '│   Running wireguard-go is not required because this  │',
  '│   kernel has first class support for WireGuard. For  │',
  '│   information on installing the kernel module,       │',
  '│   please visit:                                      │',
  '│         https://www.wireguard.com/install/           │',
  '│                                                      │',
  '└──────────────────────────────────────────────────────┘',
].join('\n');
const wgGoFails = (stderr: string) =>
  new FakeRunner().on(/^ip link show/, { exitCode: 1, stderr: 'Device "mesh-x" does not exist.' }).on(/^ip link add/, { exitCode: 2, stderr: 'Error: Unknown device type.' }).on(/wireguard-go/, { exitCode: 1, stderr });

t.test('the wireguard-go banner is not the reason', async (t) => {
  const real = `${BANNER}\nERROR: (mesh-x) 2026/11/26 11:00:00 Failed to create TUN device: open /dev/net/tun: no such file or directory\n`;
  const e1 = await ensureInterface(wgGoFails(real), 'mesh-x').then(() => null, (e: Error & { hint?: string }) => e);
  t.ok(e1);
  t.notMatch(e1!.message, /not required|first class support/, 'the banner is not shown as the reason');
  t.match(e1!.message, /could not open a TUN device .*Failed to create TUN device/);
  t.match(e1!.hint, /modprobe tun/);
  const e2 = await ensureInterface(wgGoFails(BANNER), 'mesh-x').then(() => null, (e: Error) => e);
  t.notMatch(e2!.message, /not required|first class support/);
  t.match(e2!.message, /exited without saying why/);
});

t.test('an unreachable controller is described, not dumped', async (t) => {
  const port = await freePort(); // nothing listens there
  const c = new NodeClient(`127.0.0.1:${port}`, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n', null);
  t.teardown(() => c.close());
  const e = await c.checkIn({ listenPort: 0, endpoint: '', knownVersion: 0, handshakes: [] }, 3000).then(() => null, (err: Error & { code?: string }) => err);
  t.equal(e?.code, 'UNREACHABLE');
  t.notMatch(e!.message, /Resolution note|Last error|No connection established|\(\d{4}-\d\d/, `no raw grpc-js text: ${e!.message}`);
  t.match(e!.message, new RegExp(`cannot reach the controller at 127\\.0\\.0\\.1:${port}: (connection refused|no answer in time|no connection could be made)`));
});

t.test('a wrong secret is reported as a wrong secret; an unknown key as unknown', async (t) => {
  const tc = await startTestController({ grpc: true });
  const dir = await mkdtemp(pathJoin(tmpdir(), 'meshctl-err-'));
  t.teardown(async () => {
    await tc.stop();
    await rm(dir, { recursive: true, force: true });
  });
  const admin = async <T>(method: string, path: string, body?: unknown) =>
    (await (await tc.fetch(`${tc.apiUrl}/api/v1${path}`, { method, headers: { authorization: `Bearer ${tc.token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) })).json()) as T;
  await admin('POST', '/networks', { name: 'office', cidr: '10.10.0.0/24' });
  const { token } = await admin<{ token: string }>('POST', '/networks/office/keys', { name: 'k1' });
  const tok = decodeJoinToken(token);
  const env = { configDir: dir, runner: multiHost().runner };
  const wrong = encodeJoinToken({ ...tok, secret: tok.secret.slice(0, -4) + 'AAAA' });
  await t.rejects(join(env, { token: wrong, name: 'n1' }), { code: 'KEY_INVALID', message: /the secret in this token does not match access key "k1" of network "office"/ });
  const unknown = encodeJoinToken({ ...tok, keyName: 'nope' });
  await t.rejects(join(env, { token: unknown, name: 'n1' }), { code: 'KEY_INVALID', message: /network "office" has no access key named "nope"/ });
});
