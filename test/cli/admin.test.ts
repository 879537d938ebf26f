// The admin commands end to end: CLI process -> REST API -> store (acceptance check 3).
import t from 'tap';
import assert from 'node:assert/strict';
import { startTestController, type TestController } from '../helpers/controller.ts';
import { cli } from '../helpers/cli.ts';

let tc: TestController;
let env: Record<string, string>;
t.before(async () => {
  tc = await startTestController();
  env = { MESHCTL_SERVER: tc.apiUrl, MESHCTL_TOKEN: tc.token, MESHCTL_DATA_DIR: tc.dataDir };
});
t.teardown(async () => {
  await tc.stop();
});

t.test('network create / list --json', async () => {
  const r = await cli(['network', 'create', 'office', '--cidr', '10.10.0.0/24'], env);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Created network office/);
  const l = await cli(['network', 'list', '--json'], env);
  assert.equal(l.code, 0);
  const nets = JSON.parse(l.stdout) as { name: string; cidr: string; listenPort: number; keepalive: number; manualApproval: boolean; version: number }[];
  assert.deepEqual(nets, [{ name: 'office', cidr: '10.10.0.0/24', listenPort: 51821, keepalive: 20, manualApproval: false, domain: 'office.internal', dns: true, version: 1 }]);
});

t.test('bad networks fail with exit 1 and a message naming the problem', async () => {
  const cases: [string[], RegExp][] = [
    [['office', '--cidr', '10.20.0.0/24'], /network "office" already exists/],
    [['other', '--cidr', '10.10.0.128/25'], /overlaps network "office"/],
    [['other', '--cidr', '10.10.0.1/24'], /host bits set/],
    [['other', '--cidr', '300.1.1.0/24'], /"300\.1\.1\.0\/24" is not an IPv4 prefix/],
    [['Bad_Name', '--cidr', '10.30.0.0/24'], /"Bad_Name" is not a valid name/],
  ];
  for (const [args, msg] of cases) {
    const r = await cli(['network', 'create', ...args], env);
    assert.equal(r.code, 1, `${args.join(' ')}: exit ${r.code}`);
    assert.match(r.stderr, /^Error \([A-Z_]+\): /);
    assert.match(r.stderr, msg);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    const j = await cli(['network', 'create', ...args, '--json'], env);
    assert.equal(j.code, 1);
    const err = JSON.parse(j.stdout) as { error: { code: string; message: string } };
    assert.match(err.error.message, msg);
  }
  const l = JSON.parse((await cli(['network', 'list', '--json'], env)).stdout) as unknown[];
  assert.equal(l.length, 1, 'nothing half-written');
});

t.test('keys create returns a token once; keys list shows no secret', async () => {
  const r = await cli(['keys', 'create', 'office', '--uses', '2', '--expires', '1h', '--json'], env);
  assert.equal(r.code, 0, r.stderr);
  const k = JSON.parse(r.stdout) as { name: string; network: string; usesRemaining: number; expiresAt: string; token: string };
  assert.equal(k.network, 'office');
  assert.equal(k.usesRemaining, 2);
  assert.match(k.token, /^mc1\./);
  const secret = (JSON.parse(Buffer.from(k.token.slice(4), 'base64url').toString()) as { x: string }).x;
  const l = await cli(['keys', 'list', 'office', '--json'], env);
  assert.equal(l.code, 0);
  assert.ok(!l.stdout.includes(secret));
  assert.ok(!l.stdout.includes(k.token));
  const keys = JSON.parse(l.stdout) as { name: string; token?: string }[];
  assert.equal(keys.length, 1);
  assert.equal(keys[0]!.token, undefined);
});

t.test('dns add / list', async () => {
  const a = await cli(['dns', 'add', 'office', 'printer', '10.10.0.200'], env);
  assert.equal(a.code, 0, a.stderr);
  const l = await cli(['dns', 'list', 'office', '--json'], env);
  assert.deepEqual(JSON.parse(l.stdout), [{ name: 'printer', network: 'office', address: '10.10.0.200', source: 'custom', type: 'A' }]);
  const bad = await cli(['dns', 'add', 'office', 'scanner', '10.10.0.999'], env);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /not an IPv4 address/);
});

t.test('usage errors exit 2; an unreachable controller or a wrong token exit 1 with a hint', async () => {
  const u = await cli(['network', 'create', 'x', '--bogus'], env);
  assert.equal(u.code, 2);
  assert.match(u.stderr, /Error \(USAGE\).*--bogus/);
  const m = await cli(['network', 'create'], env);
  assert.equal(m.code, 2);
  const unknown = await cli(['frobnicate'], env);
  assert.equal(unknown.code, 2);
  const off = await cli(['network', 'list'], { ...env, MESHCTL_SERVER: 'http://127.0.0.1:9' });
  assert.equal(off.code, 1);
  assert.match(off.stderr, /Error \(UNREACHABLE\)/);
  assert.match(off.stderr, /Try this:/);
  const wrong = await cli(['network', 'list', '--json'], { ...env, MESHCTL_TOKEN: 'not-the-token-not-the-token' });
  assert.equal(wrong.code, 1);
  assert.equal((JSON.parse(wrong.stdout) as { error: { code: string } }).error.code, 'UNAUTHENTICATED');
});

t.test('--help on topics and commands; --version', async () => {
  const h = await cli(['--help']);
  assert.equal(h.code, 0);
  for (const t of ['network', 'keys', 'nodes', 'dns', 'server']) assert.match(h.stdout, new RegExp(`\\b${t}\\b`));
  const v = await cli(['--version']);
  assert.match(v.stdout, /^meshctl\/\d+\.\d+\.\d+/);
  const ch = await cli(['keys', 'create', '--help']);
  assert.match(ch.stdout, /--expires/);
});
