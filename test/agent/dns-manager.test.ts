// The agent's DNS manager over a fake runner and temp hosts files: the exact resolvectl calls on
// join and leave, the hosts-file block in cron mode, the per-network switch, and `meshctl leave`.
import t from 'tap';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeRunner } from '../../src/platform/fake-runner.ts';
import { DnsManager } from '../../src/agent/dns/manager.ts';
import { buildView, type NodeView, type ViewNode } from '../../src/core/view.ts';
import { newNetwork } from '../../src/core/network.ts';
import { leave, status } from '../../src/agent/node.ts';
import { saveState } from '../../src/agent/state.ts';
import { setHostsBlock } from '../../src/platform/hosts-file.ts';

const node = (i: number): ViewNode => ({ id: `id${i}`, name: `n${i}`, address: `10.10.0.${i}`, publicKey: `pk${i}`, endpoint: null, listenPort: 51821, approved: true });
const net = { ...newNetwork({ name: 'office', cidr: '10.10.0.0/24' }), version: 4 };
const view = (records: NodeView['records'] = [], n = net): NodeView => buildView(node(1), n, [node(1), node(2), node(3)], [], records);
const HOSTS = '127.0.0.1\tlocalhost\n# the admin\'s own line\n10.0.0.5 nas\n';

async function tempHosts(t: { teardown(fn: () => unknown): void }): Promise<{ dir: string; file: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'meshctl-dnsm-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'hosts');
  await writeFile(file, HOSTS);
  return { dir, file };
}

const resolvedUp = () => new FakeRunner().on('systemctl is-active --quiet systemd-resolved', { exitCode: 0 });

t.test('where resolved runs: the exact resolvectl calls on join, none while nothing changes, revert on leave', async (t) => {
  const { file } = await tempHosts(t);
  const runner = resolvedUp();
  const m = new DnsManager({ runner, responder: true, hostsFile: file, port: 53 });
  t.teardown(() => m.close());
  await m.apply('office', 'mesh-office', view());
  t.same(runner.lines, [
    'systemctl is-active --quiet systemd-resolved',
    'resolvectl dns mesh-office 10.10.0.1',
    'resolvectl domain mesh-office ~office.internal',
  ]);
  runner.clear();
  await m.apply('office', 'mesh-office', view([{ name: 'printer', type: 'A', address: '10.10.0.200' }]));
  t.same(runner.lines, [], 'a new record changes the responder only');
  t.equal(m.info('office')?.mode, 'resolved');
  t.equal(await readFile(file, 'utf8'), HOSTS, 'the hosts file is not touched in resolved mode');
  await m.remove('office', 'mesh-office');
  t.same(runner.lines, ['resolvectl revert mesh-office']);
  t.equal(m.info('office'), undefined);
});

t.test('meshctl leave (no agent running): one resolvectl revert, hosts block removed', async (t) => {
  const { dir, file } = await tempHosts(t);
  await setHostsBlock(file, 'office', ['10.10.0.1\tn1.office.internal']);
  const configDir = join(dir, 'etc');
  await saveState(configDir, { network: 'office', server: '127.0.0.1:1', caPem: '', caPin: '', nodeId: 'id1', credential: 'id1.x', interface: 'mesh-office', listenPort: 51821, endpoint: '', view: view() });
  const runner = resolvedUp().on(/^ip -d -o link show/, { stdout: '7: mesh-office: <POINTOPOINT,NOARP,UP,LOWER_UP> mtu 1420 \\    link/none  promiscuity 0 \\    wireguard' }).on(/^ip -d link show/, { stdout: '7: mesh-office: <POINTOPOINT,NOARP,UP,LOWER_UP> mtu 1420\n    link/none  promiscuity 0\n    wireguard' });
  const r = await leave({ configDir, runner, hostsFile: file }, 'office');
  t.equal(r.left, true);
  const lines = runner.lines;
  const revert = lines.indexOf('resolvectl revert mesh-office');
  t.ok(revert >= 0, `resolvectl revert in ${JSON.stringify(lines)}`);
  t.equal(lines.filter((l) => l.startsWith('resolvectl')).length, 1, 'only the revert');
  t.ok(lines.some((l) => l.startsWith('ip link del')), `the interface is removed: ${JSON.stringify(lines)}`);
  t.equal(await readFile(file, 'utf8'), HOSTS, 'the block is gone and every other line is as it was');
});

t.test('without resolved, and always in cron mode: a marked block in the hosts file, updated in place of itself', async (t) => {
  const { file } = await tempHosts(t);
  for (const [what, runner, responder] of [['no resolved', new FakeRunner().on(/^systemctl/, { exitCode: 3 }), true], ['cron mode', resolvedUp(), false]] as const) {
    const m = new DnsManager({ runner, responder, hostsFile: file, port: 20000 + Math.floor(Math.random() * 20000) });
    await m.apply('office', 'mesh-office', view());
    t.equal(await readFile(file, 'utf8'), HOSTS + '# BEGIN meshctl office\n10.10.0.1\tn1.office.internal\n10.10.0.2\tn2.office.internal\n10.10.0.3\tn3.office.internal\n# END meshctl office\n', what);
    await m.apply('office', 'mesh-office', view([{ name: 'db', type: 'CNAME', address: 'n2' }]));
    t.match(await readFile(file, 'utf8'), /\n10\.10\.0\.2\tdb\.office\.internal\n10\.10\.0\.1\tn1/);
    t.same(m.info('office'), { mode: 'hosts', domain: 'office.internal', responder: null, hostsFile: file, query: 'getent hosts n1.office.internal' }, `${what}: status says how to query`);
    t.notOk(runner.lines.some((l) => l.startsWith('resolvectl')), `${what}: no resolvectl`);
    await m.remove('office', 'mesh-office');
    t.equal(await readFile(file, 'utf8'), HOSTS, `${what}: leave removes only the block`);
    await m.close();
  }
});

t.test('the per-network switch: dns off removes what was set; --host-dns off touches nothing', async (t) => {
  const { file } = await tempHosts(t);
  const runner = new FakeRunner().on(/^systemctl/, { exitCode: 3 });
  const m = new DnsManager({ runner, responder: false, hostsFile: file });
  await m.apply('office', 'mesh-office', view());
  t.not(await readFile(file, 'utf8'), HOSTS);
  await m.apply('office', 'mesh-office', view([], { ...net, dns: false }));
  t.equal(await readFile(file, 'utf8'), HOSTS);
  t.equal(m.info('office'), undefined);
  const off = new DnsManager({ runner: new FakeRunner(), responder: false, hostsFile: file, hostDns: 'off' });
  await off.apply('office', 'mesh-office', view());
  t.equal(await readFile(file, 'utf8'), HOSTS);
  t.equal(off.info('office')?.mode, 'off');
});

t.test('status names the integration in effect without an agent (hosts block present or not)', async (t) => {
  const { dir, file } = await tempHosts(t);
  const configDir = join(dir, 'etc');
  await saveState(configDir, { network: 'office', server: '127.0.0.1:1', caPem: '', caPin: '', nodeId: 'id1', credential: 'id1.x', interface: 'mesh-office', listenPort: 51821, endpoint: '', view: view() });
  const runner = new FakeRunner().on(/^ip -j addr show/, { exitCode: 1, stderr: 'Device "mesh-office" does not exist.' });
  const [s1] = await status({ configDir, runner, hostsFile: file });
  t.equal(s1?.dns.mode, 'off');
  await setHostsBlock(file, 'office', ['10.10.0.1\tn1.office.internal']);
  const [s2] = await status({ configDir, runner, hostsFile: file });
  t.same(s2?.dns, { mode: 'hosts', domain: 'office.internal', responder: null, hostsFile: file, query: 'getent hosts n1.office.internal' });
});
