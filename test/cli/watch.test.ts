// `meshctl nodes list NETWORK --watch` as a process against a real controller: the table, a line
// per change within 1 s, JSON lines, reconnect after a controller restart, Ctrl-C exits 0.
import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { BIN } from '../helpers/cli.ts';
import { startTestController, type TestController } from '../helpers/controller.ts';
import { decodeJoinToken } from '../../src/core/join-token.ts';
import { generateKeyPair } from '../../src/core/wg-key.ts';

interface Proc {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  waitOut(re: RegExp, ms?: number, from?: number): Promise<void>;
  waitErr(re: RegExp, ms?: number): Promise<void>;
  exit: Promise<number | null>;
}

function run(args: string[], env: Record<string, string>): Proc {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const wait = async (get: () => string, re: RegExp, ms: number, what: string) => {
    const end = Date.now() + ms;
    while (!re.test(get())) {
      if (Date.now() > end) throw new Error(`${what} did not match ${re} within ${ms} ms:\n${get()}\n--- stderr:\n${err}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  return {
    child, out: () => out, err: () => err, exit,
    waitOut: (re, ms = 10_000, from = 0) => wait(() => out.slice(from), re, ms, 'stdout'),
    waitErr: (re, ms = 10_000) => wait(() => err, re, ms, 'stderr'),
  };
}

const freePort = () => new Promise<number>((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const p = (s.address() as { port: number }).port;
    s.close(() => resolve(p));
  });
});

async function join(tc: TestController, network: string, name: string) {
  const key = await tc.admin<{ token: string }>('POST', `/networks/${network}/keys`, { name: `k-${name}` });
  const jt = decodeJoinToken(key.token);
  return tc.ctl.nodeApi.join({ network, keyName: jt.keyName, keySecret: jt.secret, name, publicKey: generateKeyPair().publicKey, listenPort: 0, endpoint: '' }, '127.0.0.1:40000');
}

t.test('nodes list --watch: the table, then a line per change; Ctrl-C exits 0', async (t) => {
  const tc = await startTestController({ grpc: true });
  t.teardown(() => tc.stop());
  const env = { MESHCTL_SERVER: tc.apiUrl, MESHCTL_TOKEN: tc.token, MESHCTL_DATA_DIR: tc.dataDir };
  await tc.admin('POST', '/networks', { name: 'office', cidr: '10.10.0.0/24' });
  await tc.admin('POST', '/networks', { name: 'lab', cidr: '10.20.0.0/24' });
  await join(tc, 'office', 'n1');
  const p = run(['nodes', 'list', 'office', '--watch'], env);
  t.teardown(() => p.child.kill('SIGKILL'));
  await p.waitOut(/NETWORK\s+NAME\s+ADDRESS.*\noffice\s+n1\s+10\.10\.0\.1/);
  await new Promise((r) => setTimeout(r, 300)); // the stream is open once the table is out; give it a moment to settle
  let mark = p.out().length;
  const t0 = Date.now();
  await join(tc, 'office', 'n2');
  await p.waitOut(/\d\d:\d\d:\d\d  office  n2 joined: 10\.10\.0\.2/, 1000, mark);
  t.ok(Date.now() - t0 < 1000, `the join shows within 1 s (${Date.now() - t0} ms)`);
  mark = p.out().length;
  await tc.admin('POST', '/networks/lab/dns', { name: 'elsewhere', address: '10.20.0.9' });
  await tc.admin('DELETE', '/networks/office/nodes/n1');
  await p.waitOut(/office  n1 removed/, 2000, mark);
  t.notMatch(p.out(), /elsewhere/, 'another network\'s change is not shown');
  await p.waitOut(/office  n2 is (down|healthy)/, 8000); // its first status after the baseline
  p.child.kill('SIGINT');
  t.equal(await p.exit, 0, 'Ctrl-C exits 0');
  t.equal(p.err(), '', 'nothing on stderr');
});

t.test('nodes list --watch --json: one JSON object per line per event', async (t) => {
  const tc = await startTestController({ grpc: true });
  t.teardown(() => tc.stop());
  const env = { MESHCTL_SERVER: tc.apiUrl, MESHCTL_TOKEN: tc.token, MESHCTL_DATA_DIR: tc.dataDir };
  await tc.admin('POST', '/networks', { name: 'office', cidr: '10.10.0.0/24' });
  const p = run(['nodes', 'list', 'office', '--watch', '--json'], env);
  t.teardown(() => p.child.kill('SIGKILL'));
  await p.waitOut(/^\{"event":"snapshot","data":\[\]\}\n/);
  await new Promise((r) => setTimeout(r, 300));
  await tc.admin('POST', '/networks/office/dns', { name: 'printer', address: '10.10.0.200' });
  await p.waitOut(/"event":"change"/, 2000);
  p.child.kill('SIGTERM');
  t.equal(await p.exit, 0);
  const lines = p.out().trim().split('\n').map((l) => JSON.parse(l) as { event: string; id?: string; data: { kind?: string } });
  t.equal(lines.length, 2, 'a snapshot line and one change line');
  t.equal(lines[1]!.event, 'change');
  t.match(lines[1]!.id, /^[0-9a-f]+-\d+$/);
  t.match(lines[1]!.data, { kind: 'dns', network: 'office', upserted: [{ name: 'printer' }] });
});

t.test('nodes list --watch reconnects after the controller restarts, says so, and lists again', async (t) => {
  const apiPort = await freePort();
  let tc = await startTestController({ apiPort });
  const dataDir = tc.dataDir;
  t.teardown(() => tc.stop());
  const env = { MESHCTL_SERVER: tc.apiUrl, MESHCTL_TOKEN: tc.token, MESHCTL_DATA_DIR: dataDir };
  await tc.admin('POST', '/networks', { name: 'office', cidr: '10.10.0.0/24' });
  const p = run(['nodes', 'list', 'office', '--watch'], env);
  t.teardown(() => p.child.kill('SIGKILL'));
  await p.waitOut(/No nodes\./);
  await tc.ctl.close(); // the data dir stays
  await p.waitErr(/event stream lost \(.+\); reconnecting in \d+\.\d s/, 5000);
  tc = await startTestController({ apiPort, dataDir });
  await p.waitErr(/reconnected to the event stream/, 20_000);
  // A new controller process does not know the old cursor: reset, and the table again.
  await p.waitErr(/the event stream was reset: listing again/, 5000);
  await p.waitOut(/No nodes\.[\s\S]*No nodes\./, 5000);
  const mark = p.out().length;
  await tc.admin('POST', '/networks/office/dns', { name: 'printer', address: '10.10.0.200' });
  await p.waitOut(/office  dns: printer -> 10\.10\.0\.200/, 2000, mark);
  p.child.kill('SIGINT');
  t.equal(await p.exit, 0);
});

t.test('nodes list --watch fails at once (exit 1) on a refused token or an unknown network', async (t) => {
  const tc = await startTestController();
  t.teardown(() => tc.stop());
  await tc.admin('POST', '/networks', { name: 'office', cidr: '10.10.0.0/24' });
  const bad = run(['nodes', 'list', 'office', '--watch'], { MESHCTL_SERVER: tc.apiUrl, MESHCTL_TOKEN: 'x'.repeat(43), MESHCTL_DATA_DIR: tc.dataDir });
  t.equal(await bad.exit, 1);
  t.match(bad.err(), /Error \(UNAUTHENTICATED\)/);
  const missing = run(['nodes', 'list', 'nosuch', '--watch', '--json'], { MESHCTL_SERVER: tc.apiUrl, MESHCTL_TOKEN: tc.token, MESHCTL_DATA_DIR: tc.dataDir });
  t.equal(await missing.exit, 1);
  t.match(JSON.parse(missing.out()), { error: { code: 'NOT_FOUND' } });
});
