// Gateways and external clients in the harness: the REST API, the CLI's key-making path, and what
// the agents apply (WireGuard peers, routes, firewall) after each change. WireGuard, routes and
// nft are simulated here; test/e2e/gateways.e2e.test.ts drives the real thing.
import t from 'tap';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join as pathJoin } from 'node:path';
import { startHarness } from '../helpers/harness.ts';
import { simHost } from '../platform/wg-sim.ts';
import { join, checkIn, type AgentEnv } from '../../src/agent/node.ts';
import { AdminClient } from '../../src/cli/admin-client.ts';
import { adminApi } from '../../src/cli/admin-api.ts';
import { createClient } from '../../src/cli/clients.ts';
import { generateKeyPair } from '../../src/core/wg-key.ts';
import type { ExtClient, MeshNode } from '../../src/core/types.ts';
import { cli } from '../helpers/cli.ts';
import { decodeTerminalQr } from '../helpers/qr.ts';

t.setTimeout(240_000); // CLI processes and controllers on a loaded 2-core machine

/** A simulated host that also keeps an nft table, as `nft -f -` / `nft list` / `nft delete` would. */
function gatewayHost() {
  const sim = simHost({ kernel: true });
  let table: string | null = null;
  sim.runner.on(/^nft list table ip /, () => (table ? { stdout: table } : { exitCode: 1, stderr: 'Error: No such file or directory' }));
  sim.runner.on('nft -f -', (_argv, o) => ((table = o.input!.split('\n').slice(2).join('\n')), {}));
  sim.runner.on(/^nft delete table ip /, () => ((table = null), {}));
  sim.runner.on('sysctl -n net.ipv4.ip_forward', { stdout: '1' });
  const routes = new Set<string>();
  sim.runner.on(/^ip -j -4 route show dev \S+ proto static$/, () => ({ stdout: JSON.stringify([...routes].map((dst) => ({ dst }))) }));
  sim.runner.on(/^ip route replace /, (argv) => (routes.add(argv[3]!), {}));
  sim.runner.on(/^ip route del /, (argv) => (routes.delete(argv[3]!), {}));
  return { sim, table: () => table };
}

async function allFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = pathJoin(dir, e.name);
    if (e.isDirectory()) out.push(...(await allFiles(p)));
    else out.push(p);
  }
  return out;
}

t.test('ingress and egress gateways, external clients: API, CLI and what every agent applies', async (t) => {
  const h = await startHarness();
  t.teardown(() => h.stopAll());
  await h.admin('POST', '/networks', { name: 'office', cidr: '10.10.0.0/24' });
  const { token } = await h.admin<{ token: string }>('POST', '/networks/office/keys', { uses: 'unlimited' });
  const hosts: Record<string, { env: AgentEnv; gw: ReturnType<typeof gatewayHost> }> = {};
  for (const name of ['gw', 'n2', 'n3']) {
    const env = await h.agent();
    const gw = gatewayHost();
    hosts[name] = { env: { ...env, runner: gw.sim.runner }, gw };
    await join(hosts[name]!.env, { token, name });
  }
  const sync = async () => { for (const x of Object.values(hosts)) await checkIn(x.env, 'office'); };
  const peers = async (host: string) => {
    const dump = (await hosts[host]!.env.runner.run(['wg', 'show', 'mesh-office', 'dump'])).stdout.split('\n').slice(1);
    return new Map(dump.map((l) => l.split('\t')).map((f) => [f[0]!, f[3]!]));
  };
  const api = adminApi(new AdminClient({ server: h.apiUrl, token: h.token }));
  const nodes = new Map((await api.listNodes('office')).map((n) => [n.name, n]));
  const gwKey = nodes.get('gw')!.publicKey;

  await t.rejects(api.createClient('office', { name: 'phone', gateway: 'gw', publicKey: generateKeyPair().publicKey }), { code: 'NOT_A_GATEWAY' }, 'only an ingress gateway takes clients');
  const gw = await api.setIngress('office', 'gw', true);
  t.equal(gw.ingress, true);

  // The CLI path: the key pair is made here; only the public key reaches the controller.
  const phone = await createClient(api, 'office', { name: 'phone', gateway: 'gw', dns: true });
  const privateKey = /^PrivateKey = (\S+)$/m.exec(phone.config!)![1]!;
  t.equal(phone.address, '10.10.0.4', 'the lowest address no node holds');
  t.match(phone.config!, /^DNS = 10\.10\.0\.1$/m, '--dns: the gateway\'s responder on its mesh address');
  t.match(phone.config!, new RegExp(`^PublicKey = ${gwKey.replace(/[+/]/g, '\\$&')}$`, 'm'));
  t.match(phone.config!, /^AllowedIPs = 10\.10\.0\.0\/24$/m);
  const shown = await api.showClient('office', 'phone');
  t.match(shown.config!, /^PrivateKey = <paste yours>$/m, 'show reprints the config without a private key');
  t.equal(shown.config, phone.config!.replace(privateKey, '<paste yours>'));
  const own = generateKeyPair();
  const laptop = await api.createClient('office', { name: 'laptop', gateway: 'gw', publicKey: own.publicKey });
  t.equal(laptop.address, '10.10.0.5');
  await t.rejects(api.createClient('office', { name: 'n2', gateway: 'gw', publicKey: generateKeyPair().publicKey }), { code: 'NAME_TAKEN' });
  await t.rejects(api.createClient('office', { name: 'x', gateway: 'gw', publicKey: own.publicKey }), { code: 'ALREADY_EXISTS' });

  // A node joining later never takes a client's address.
  const late = await h.agent();
  await join({ ...late, runner: simHost({ kernel: true }).runner }, { token, name: 'n4' });
  t.equal((await api.showNode('office', 'n4')).address, '10.10.0.6');
  await api.deleteNode('office', 'n4');

  t.same((await api.setEgress('office', 'gw', { ranges: ['192.168.7.0/24'], nat: true })).egressRanges, ['192.168.7.0/24']);
  await t.rejects(api.setEgress('office', 'n2', { ranges: ['192.168.7.128/25'], nat: false }), { code: 'CIDR_OVERLAP', message: /gw/ });
  await t.rejects(api.setEgress('office', 'n2', { ranges: ['10.10.0.0/25'], nat: false }), { code: 'CIDR_OVERLAP' });
  t.match((await api.listNodes('office')).find((n) => n.name === 'gw'), { ingress: true, egressRanges: ['192.168.7.0/24'], egressNat: true } as Partial<MeshNode>);

  await sync();
  const gwPeers = await peers('gw');
  t.equal(gwPeers.get(phone.publicKey), '10.10.0.4/32', 'the gateway has the client as a peer');
  t.equal(gwPeers.get(own.publicKey), '10.10.0.5/32');
  for (const n of ['n2', 'n3']) {
    t.equal((await peers(n)).get(gwKey), '10.10.0.1/32,10.10.0.5/32,10.10.0.4/32,192.168.7.0/24', `${n} routes the clients (by name) and the range to the gateway`);
    t.ok(hosts[n]!.gw.sim.runner.lines.includes('ip route replace 192.168.7.0/24 dev mesh-office proto static'), `${n} has a route to the range`);
    t.equal(hosts[n]!.gw.table(), null, `${n} has no firewall rules of ours`);
  }
  t.match(hosts.gw!.gw.table(), /ip saddr 10\.10\.0\.0\/24 ip daddr 192\.168\.7\.0\/24 masquerade/, 'the gateway masquerades into its range');
  t.match((await api.showClient('office', 'laptop')).config, /^AllowedIPs = 10\.10\.0\.0\/24, 192\.168\.7\.0\/24$/m, 'clients route the egress range too');

  await t.rejects(api.setIngress('office', 'gw', false), { code: 'GATEWAY_IN_USE' });
  t.equal((await api.setClientEnabled('office', 'laptop', false)).enabled, false);
  t.equal((await api.deleteClient('office', 'phone')).name, 'phone');
  t.same((await api.listClients('office')).map((c: ExtClient) => [c.name, c.enabled]), [['laptop', false]]);
  await api.setEgress('office', 'gw', null);
  for (const x of Object.values(hosts)) x.gw.sim.runner.clear();
  await sync();
  t.same([...(await peers('gw')).keys()].filter((k) => k === phone.publicKey || k === own.publicKey), [], 'deleted and disabled clients are dropped');
  t.equal((await peers('n2')).get(gwKey), '10.10.0.1/32');
  t.ok(hosts.n2!.gw.sim.runner.lines.includes('ip route del 192.168.7.0/24 dev mesh-office proto static'), 'the route goes when the egress role goes');
  t.notMatch(hosts.gw!.gw.table() ?? '', /masquerade/, 'the gateway no longer masquerades');
  await api.deleteClient('office', 'laptop');
  await api.setIngress('office', 'gw', false);
  await sync();
  t.equal(hosts.gw!.gw.table(), null, 'no role left: no rules of ours left');

  // The controller never had the client's private key: not in its database, nor anywhere in its data dir.
  const needles = [Buffer.from(privateKey), Buffer.from(privateKey, 'base64')];
  for (const f of await allFiles(h.dataDir)) {
    const bytes = await readFile(f);
    for (const n of needles) t.equal(bytes.indexOf(n), -1, `${f} does not hold the client's private key`);
  }
});

t.test('`clients create` prints the config and a QR code that decodes to exactly that config; --json and --out', async (t) => {
  const h = await startHarness();
  t.teardown(() => h.stopAll());
  await h.admin('POST', '/networks', { name: 'office', cidr: '10.10.0.0/24' });
  const { token } = await h.admin<{ token: string }>('POST', '/networks/office/keys', { uses: 'unlimited' });
  await join(await h.agent(), { token, name: 'gw' });
  const flags = ['--server', h.apiUrl, '--token', h.token];
  t.equal((await cli(['nodes', 'ingress', 'office', 'gw', ...flags])).code, 0);
  const r = await cli(['clients', 'create', 'office', 'phone', '--gateway', 'gw', ...flags]);
  t.equal(r.code, 0, r.stderr);
  const config = r.stdout.slice(0, r.stdout.indexOf('\n\n', r.stdout.indexOf('[Peer]')) + 1);
  t.match(config, /^# meshctl external client phone[\s\S]*\[Interface\]\nPrivateKey = [A-Za-z0-9+/]{43}=\n[\s\S]*\[Peer\]/);
  const qr = r.stdout.slice(config.length);
  t.equal(decodeTerminalQr(qr), config, 'the QR code decodes to exactly the printed config');

  const j = await cli(['clients', 'create', 'office', 'laptop', '--gateway', 'gw', '--public-key', generateKeyPair().publicKey, '--json', ...flags]);
  const c = JSON.parse(j.stdout) as ExtClient;
  t.match(c, { name: 'laptop', network: 'office', address: '10.10.0.3', gateway: 'gw', enabled: true });
  t.match(c.config, /^PrivateKey = <paste yours>$/m);
  const bad = await cli(['clients', 'create', 'office', 'x', '--gateway', 'nope', '--json', ...flags]);
  t.equal(bad.code, 1);
  t.equal(JSON.parse(bad.stdout).error.code, 'NOT_FOUND');
  const usage = await cli(['nodes', 'egress', 'office', 'gw', ...flags]);
  t.equal(usage.code, 2, 'egress needs --ranges or --off');

  // --out: the config (private key included) goes to a new 0600 file, never to the terminal; a
  // path that cannot be written fails before the client exists, so no key is ever lost.
  const dir = t.testdir({ 'taken.conf': 'another client\'s config\n' });
  const file = pathJoin(dir, 'tablet.conf');
  const o = await cli(['clients', 'create', 'office', 'tablet', '--gateway', 'gw', '--dns', '--out', file, ...flags]);
  t.equal(o.code, 0, o.stderr);
  t.match(o.stdout, new RegExp(`wrote its config to ${file.replace(/[.]/g, '\\.')} \\(0600\\)`));
  t.equal((await stat(file)).mode & 0o777, 0o600, 'the file is its owner\'s only');
  const written = await readFile(file, 'utf8');
  const key = /^PrivateKey = ([A-Za-z0-9+/]{43}=)$/m.exec(written)?.[1];
  t.ok(key, 'the file holds the private key made here');
  t.notOk(o.stdout.includes(key!), 'the terminal never shows it');
  t.match(written, /^DNS = 10\.10\.0\.1$/m);
  const api = adminApi(new AdminClient({ server: h.apiUrl, token: h.token }));
  t.equal((await api.showClient('office', 'tablet')).config, written.replace(key!, '<paste yours>'), 'the file is the config the controller describes');
  for (const [out, why] of [[pathJoin(dir, 'taken.conf'), /already exists/], [pathJoin(dir, 'no', 'such', 'dir.conf'), /directory does not exist/]] as const) {
    const r = await cli(['clients', 'create', 'office', 'tv', '--gateway', 'gw', '--out', out, '--json', ...flags]);
    t.equal(r.code, 1, `--out ${out}`);
    t.match(JSON.parse(r.stdout).error, { code: 'INVALID_ARGUMENT', message: why });
    await t.rejects(api.showClient('office', 'tv'), { code: 'NOT_FOUND' }, 'refused before the client was created');
  }
  t.equal(await readFile(pathJoin(dir, 'taken.conf'), 'utf8'), 'another client\'s config\n', 'an existing file is never overwritten');
  const refused = await cli(['clients', 'create', 'office', 'tv', '--gateway', 'nope', '--out', pathJoin(dir, 'tv.conf'), ...flags]);
  t.equal(refused.code, 1);
  await t.rejects(stat(pathJoin(dir, 'tv.conf')), { code: 'ENOENT' }, 'a create the controller refused leaves no file behind');
});
