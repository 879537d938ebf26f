// Issue 11 on a gateway without nftables: the firewall adapter falls back to iptables (its own
// chains MESHCTL-F-<if> and MESHCTL-N-<if>), and a --full-tunnel client sends all of its traffic
// through the gateway, which masquerades it off the mesh. Real wireguard-go, real iptables (the
// gw agent runs with `nft` masked in its own mount namespace, as on a host without nftables), a
// real wg-quick client with AllowedIPs 0.0.0.0/0.
import t from 'tap';
import assert from 'node:assert/strict';
import { createLab, sweepStale, uniquePrefix, type Lab, type LabProcess } from './lab.ts';
import { prereqSkip } from './prereqs.ts';
import { BIN, bare, dropMeshctlEnv, meshTools, stepper, until, agentsReachController } from './mesh-helpers.ts';

const STEM = 'gi';
const NET = 'shop';
const CIDR = '10.67.0.0/24';
const LAN = '192.168.78.0/24';
const LAN_GW = '192.168.78.1';
const LAN_HOST = '192.168.78.2';
const NODES = ['gw', 'n2'];
/** An "internet" address of www that the client has no route to but through its tunnel (the
 * bridge's own /24 stays on-link for wg-quick, as a phone's local Wi-Fi subnet would). */
const WWW = '198.51.100.10';

dropMeshctlEnv();

t.test('issue 11 on iptables: egress --nat and a full-tunnel client through a gateway without nftables', { skip: await prereqSkip(), timeout: 600_000 }, async (t) => {
  await sweepStale(STEM);
  // `www` stands for the internet: on the bridge, not in the mesh; `lan` sits behind gw only.
  const lab: Lab = await createLab({ prefix: uniquePrefix(STEM), hosts: ['ctl', ...NODES, 'cl', 'www', 'lan'] });
  t.teardown(() => lab.destroy());
  const D = `${lab.dir('ctl')}/data`;
  const m = meshTools(lab, D);
  const node = process.execPath;
  const agents: Record<string, LabProcess> = {};
  const addr: Record<string, string> = {};
  const iface: Record<string, string> = {};
  let server: LabProcess | undefined;
  const step = stepper(t, (st) => {
    if (server) st.comment(`controller output:\n${server.output().slice(-3000)}`);
    for (const [h, a] of Object.entries(agents)) st.comment(`${h}'s agent:\n${a.output().slice(-3000)}`);
  });
  /** The source address a TCP echo server on `host` sees for a connection from `from`. */
  const seen = async (from: string, host: string): Promise<string | undefined> => {
    const js = `const s=require('net').connect(7777,'${host}');let d='';s.on('data',x=>d+=x);s.on('end',()=>console.log(d.trim()));s.on('error',()=>process.exit(3));s.setTimeout(1500,()=>process.exit(2))`;
    const r = await lab.run(from, [node, '-e', js], { allowFail: true });
    return r.exitCode === 0 && r.stdout.trim() ? r.stdout.trim() : undefined;
  };
  const echo = "require('net').createServer((s)=>s.end(s.remoteAddress.replace('::ffff:','')+'\\n')).listen(7777,'0.0.0.0')";
  const iptables = async () => `${(await lab.run('gw', ['iptables-save'])).stdout}`;
  const nftOurs = async () => (await lab.run('gw', ['nft', 'list', 'ruleset'])).stdout.includes('meshctl');

  await step('0', 'a controller, gw (agent with nft masked) and n2, a LAN behind gw, an echo server on www and on the LAN', [], async () => {
    await lab.run('lan', ['ip', 'link', 'del', 'eth0']);
    const { ExecaRunner } = await import('../../src/platform/runner.ts');
    const root = new ExecaRunner();
    await root.run(['ip', 'link', 'add', 'lan0', 'netns', lab.ns('gw'), 'type', 'veth', 'peer', 'name', 'eth0', 'netns', lab.ns('lan')]);
    await root.run(['ip', '-n', lab.ns('gw'), 'addr', 'add', `${LAN_GW}/24`, 'dev', 'lan0']);
    await root.run(['ip', '-n', lab.ns('gw'), 'link', 'set', 'lan0', 'up']);
    await root.run(['ip', '-n', lab.ns('lan'), 'addr', 'add', `${LAN_HOST}/24`, 'dev', 'eth0']);
    await root.run(['ip', '-n', lab.ns('lan'), 'link', 'set', 'eth0', 'up']);
    lab.spawn('lan', [node, '-e', echo]);
    lab.spawn('www', [node, '-e', echo]);
    await lab.run('www', ['ip', 'addr', 'add', `${WWW}/32`, 'dev', 'eth0']);
    await lab.run('gw', ['ip', 'route', 'add', `${WWW}/32`, 'via', lab.ip('www')]);
    server = await m.startController(60_000);
    await m.admin(['network', 'create', NET, '--cidr', CIDR]);
    const { token } = await m.admin<{ token: string }>(['keys', 'create', NET, '--uses', '2']);
    for (const h of NODES) {
      const j = await m.join(h, token);
      iface[h] = j.interface;
      addr[h] = bare(j.address);
    }
    // gw is a host without nftables: `nft` fails there (masked in the agent's own mount namespace).
    agents.gw = lab.spawn('gw', ['sh', '-c', 'mount --bind /bin/false "$(command -v nft)" && exec "$@"', 'sh', node, BIN, 'agent', '--config-dir', m.etc('gw')]);
    agents.n2 = m.spawnAgent('n2');
    await agentsReachController(agents);
    await m.meshPings(NODES, addr, 30_000);
  });

  let clientAddr = '';
  await step('1', 'egress --nat on gw: iptables chains of ours (no nft table), n2 reaches the LAN as gw', ['0'], async () => {
    await m.admin(['nodes', 'ingress', NET, 'gw']);
    await m.admin(['nodes', 'egress', NET, 'gw', '--ranges', LAN, '--nat']);
    const rules = await until('our iptables chains on gw', 10_000, async () => {
      const r = await iptables();
      return /MESHCTL-N-/.test(r) && /MASQUERADE/.test(r) ? r : undefined;
    });
    assert.match(rules, new RegExp(`-A MESHCTL-F-${iface.gw}\\b`), rules);
    assert.equal(await nftOurs(), false, 'nothing of ours in nftables: the adapter used iptables');
    assert.equal(await until('n2 to reach the LAN', 10_000, () => seen('n2', LAN_HOST)), LAN_GW, 'the LAN sees n2 as the gateway (masqueraded by iptables)');
  });

  await step('2', 'a --full-tunnel client: all its traffic goes through gw, which masquerades it off the mesh', ['1'], async () => {
    const r = await m.mc('ctl', ['clients', 'create', NET, 'laptop', '--gateway', 'gw', '--full-tunnel', '--out', `${m.etc('cl')}/wgc.conf`, '--data-dir', D, '--json']);
    assert.equal(r.exitCode, 0, m.explain('ctl', ['clients', 'create'], r));
    clientAddr = (JSON.parse(r.stdout) as { address: string }).address;
    assert.equal(await seen('cl', WWW), undefined, 'before its tunnel is up the client has no way to www');
    const up = await lab.run('cl', ['env', 'WG_QUICK_USERSPACE_IMPLEMENTATION=wireguard-go', 'wg-quick', 'up', `${m.etc('cl')}/wgc.conf`], { allowFail: true });
    assert.equal(up.exitCode, 0, `wg-quick up failed:\n${up.stdout}\n${up.stderr}`);
    await m.pingUntil('cl', 'n2', addr.n2!, 10_000);
    assert.equal(await until('the client to reach www', 10_000, () => seen('cl', WWW)), lab.ip('gw'), 'www (off the mesh) sees the client as gw: its traffic went through the tunnel and was masqueraded');
    assert.equal(await seen('n2', lab.ip('www')), lab.ip('n2'), 'a node\'s own traffic off the mesh does not go through gw');
    assert.match(await iptables(), new RegExp(`-s ${clientAddr.replace(/\./g, '\\.')}/32 ! -o ${iface.gw} -j MASQUERADE`), 'the full-tunnel rule names the client');
  });

  await step('3', 'roles off: every chain of ours is gone from iptables', ['1'], async () => {
    await m.admin(['clients', 'delete', NET, 'laptop']);
    await m.admin(['nodes', 'egress', NET, 'gw', '--off']);
    await m.admin(['nodes', 'ingress', NET, 'gw', '--off']);
    const left = await until('gw\'s chains to go', 10_000, async () => {
      const r = await iptables();
      return /MESHCTL/.test(r) ? undefined : r;
    });
    assert.doesNotMatch(left, /MESHCTL|meshctl/);
  });
});
