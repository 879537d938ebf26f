// The firewall and routes adapters, by the argv they run (FakeRunner): nftables and iptables,
// idempotent (a second call with the same spec runs no change), owning only their own rules.
import t from 'tap';
import { FakeRunner } from '../../src/platform/fake-runner.ts';
import { fingerprint, nftScript, setFirewall, detectBackend, type FirewallSpec } from '../../src/platform/firewall.ts';
import { setRoutes } from '../../src/platform/routes.ts';

const spec: FirewallSpec = { interface: 'mesh-office', meshCidr: '10.10.0.0/24', natRanges: ['192.168.7.0/24'], keepRanges: [], fullTunnelSources: [] };
const fp = fingerprint(spec);
const mutating = (lines: string[]) => lines.filter((l) => !/^(nft (--version|list)|sysctl -n|iptables -w -t \w+ -[SC] )/.test(l));

t.test('nft: one atomic script for our table; in step when the fingerprint matches; removal deletes only our table', async (t) => {
  const r = new FakeRunner();
  r.on('sysctl -n net.ipv4.ip_forward', { stdout: '0' });
  r.on('nft list table ip meshctl_mesh_office', { exitCode: 1, stderr: 'Error: No such file or directory' });
  t.same(await setFirewall(r, 'mesh-office', spec, 'nft'), ['mesh-office: turned IPv4 forwarding on', 'mesh-office: firewall (nft): forward, nat 192.168.7.0/24']);
  t.same(r.lines, ['sysctl -n net.ipv4.ip_forward', 'sysctl -q -w net.ipv4.ip_forward=1', 'nft list table ip meshctl_mesh_office', 'nft -f -']);
  t.equal(r.inputs[3], [
    'table ip meshctl_mesh_office',
    'delete table ip meshctl_mesh_office',
    'table ip meshctl_mesh_office {',
    '  chain forward {',
    '    type filter hook forward priority filter; policy accept;',
    `    iifname "mesh-office" accept comment "meshctl:${fp}"`,
    '    oifname "mesh-office" accept',
    '  }',
    '  chain postrouting {',
    '    type nat hook postrouting priority srcnat; policy accept;',
    '    ip saddr 10.10.0.0/24 ip daddr 192.168.7.0/24 masquerade',
    '  }',
    '}',
    '',
  ].join('\n'));

  // What nft lists back after the script: the same fingerprint, so the second call changes nothing.
  const listed = new FakeRunner();
  listed.on('sysctl -n net.ipv4.ip_forward', { stdout: '1' });
  listed.on('nft list table ip meshctl_mesh_office', { stdout: `table ip meshctl_mesh_office {\n\tchain forward {\n\t\tiifname "mesh-office" accept comment "meshctl:${fp}"\n\t}\n}` });
  t.same(await setFirewall(listed, 'mesh-office', spec, 'nft'), []);
  t.same(mutating(listed.lines), [], 'nothing changed');

  // A different spec (NAT off) replaces the table; no spec deletes it.
  const off = { ...spec, natRanges: [], keepRanges: ['192.168.7.0/24'] };
  t.same(await setFirewall(listed, 'mesh-office', off, 'nft'), ['mesh-office: firewall (nft): forward']);
  t.notMatch(listed.inputs.at(-1)!, /postrouting|masquerade/);
  listed.clear();
  t.same(await setFirewall(listed, 'mesh-office', null, 'nft'), ['mesh-office: firewall (nft): removed our forwarding and NAT rules']);
  t.same(listed.lines, ['nft list table ip meshctl_mesh_office', 'nft delete table ip meshctl_mesh_office'], 'forwarding is left as it is; only our table goes');

  const none = new FakeRunner().on(/^nft list/, { exitCode: 1, stderr: 'Error: No such file or directory' });
  t.same(await setFirewall(none, 'mesh-office', null, 'nft'), []);
  t.same(none.lines, ['nft list table ip meshctl_mesh_office'], 'nothing of ours: nothing to do');
});

t.test('nft: full-tunnel clients are masqueraded off the mesh, except into egress ranges kept without NAT', async (t) => {
  const s = nftScript({ ...spec, natRanges: [], keepRanges: ['192.168.7.0/24'], fullTunnelSources: ['10.10.0.5'] });
  t.match(s, '    ip daddr 192.168.7.0/24 accept\n    ip saddr 10.10.0.5 oifname != "mesh-office" masquerade\n');
});

t.test('iptables: our own chains, jumped to from FORWARD and POSTROUTING; in step by fingerprint; removed whole', async (t) => {
  const r = new FakeRunner();
  r.on('sysctl -n net.ipv4.ip_forward', { stdout: '1' });
  r.on(/ -S MESHCTL-/, { exitCode: 1, stderr: 'iptables: No chain/target/match by that name.' });
  r.on(/ -C (FORWARD|POSTROUTING) /, { exitCode: 1 });
  t.same(await setFirewall(r, 'mesh-office', spec, 'iptables'), ['mesh-office: firewall (iptables): forward, nat 192.168.7.0/24']);
  t.same(mutating(r.lines), [
    'iptables -w -t filter -N MESHCTL-F-mesh-office',
    'iptables -w -t filter -F MESHCTL-F-mesh-office',
    `iptables -w -t filter -A MESHCTL-F-mesh-office -i mesh-office -m comment --comment meshctl:${fp} -j ACCEPT`,
    'iptables -w -t filter -A MESHCTL-F-mesh-office -o mesh-office -j ACCEPT',
    'iptables -w -t filter -I FORWARD 1 -j MESHCTL-F-mesh-office',
    'iptables -w -t nat -N MESHCTL-N-mesh-office',
    'iptables -w -t nat -F MESHCTL-N-mesh-office',
    `iptables -w -t nat -A MESHCTL-N-mesh-office -s 10.10.0.0/24 -d 192.168.7.0/24 -m comment --comment meshctl:${fp} -j MASQUERADE`,
    'iptables -w -t nat -I POSTROUTING 1 -j MESHCTL-N-mesh-office',
  ]);

  const inStep = new FakeRunner();
  inStep.on('sysctl -n net.ipv4.ip_forward', { stdout: '1' });
  inStep.on(/ -S MESHCTL-/, (argv) => ({ stdout: `-N ${argv.at(-1)}\n-A ${argv.at(-1)} -m comment --comment "meshctl:${fp}" -j ACCEPT` }));
  t.same(await setFirewall(inStep, 'mesh-office', spec, 'iptables'), []);
  t.same(mutating(inStep.lines), []);

  inStep.clear();
  inStep.on(/ -D (FORWARD|POSTROUTING) /, (argv) => ({ exitCode: inStep.lines.filter((l) => l === argv.join(' ')).length > 1 ? 1 : 0 }));
  t.same(await setFirewall(inStep, 'mesh-office', null, 'iptables'), ['mesh-office: firewall (iptables): removed our forwarding and NAT rules']);
  t.same(mutating(inStep.lines), [
    'iptables -w -t filter -D FORWARD -j MESHCTL-F-mesh-office',
    'iptables -w -t filter -D FORWARD -j MESHCTL-F-mesh-office',
    'iptables -w -t filter -F MESHCTL-F-mesh-office',
    'iptables -w -t filter -X MESHCTL-F-mesh-office',
    'iptables -w -t nat -D POSTROUTING -j MESHCTL-N-mesh-office',
    'iptables -w -t nat -D POSTROUTING -j MESHCTL-N-mesh-office',
    'iptables -w -t nat -F MESHCTL-N-mesh-office',
    'iptables -w -t nat -X MESHCTL-N-mesh-office',
  ]);
});

t.test('backend: nftables where nft runs, else iptables; a host with neither has nothing to remove', async (t) => {
  t.equal(await detectBackend(new FakeRunner()), 'nft');
  t.equal(await detectBackend(new FakeRunner().on(/^nft/, { notFound: true })), 'iptables');
  const bare = new FakeRunner().on(/^(nft|iptables)/, { notFound: true });
  t.same(await setFirewall(bare, 'mesh-office', null), []);
  await t.rejects(setFirewall(bare, 'mesh-office', spec), { code: 'COMMAND_FAILED', hint: /apt-get install -y iptables/ }, 'a gateway without a firewall program says what to install');
  await t.rejects(setFirewall(new FakeRunner(), 'bad name', null), { code: 'INVALID_ARGUMENT' });
});

t.test('routes: `proto static` routes on the mesh interface made exactly the egress ranges; in step runs nothing', async (t) => {
  const r = new FakeRunner().on('ip -j -4 route show dev mesh-office proto static', { stdout: JSON.stringify([{ dst: '192.168.9.0/24' }, { dst: '10.99.0.7' }]) });
  t.same(await setRoutes(r, 'mesh-office', ['192.168.7.0/24', '10.99.0.7/32']), ['mesh-office: remove route 192.168.9.0/24', 'mesh-office: add route 192.168.7.0/24']);
  t.same(r.lines.slice(1), ['ip route del 192.168.9.0/24 dev mesh-office proto static', 'ip route replace 192.168.7.0/24 dev mesh-office proto static']);
  const same = new FakeRunner().on(/^ip -j/, { stdout: JSON.stringify([{ dst: '192.168.7.0/24' }]) });
  t.same(await setRoutes(same, 'mesh-office', ['192.168.7.0/24']), []);
  t.equal(same.lines.length, 1);
});
