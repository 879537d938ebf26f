// Issue 10, the standalone relay end to end (real wireguard-go, iptables NAT routers, two
// `meshctl relay` processes on their own public hosts, the controller running no relay of its own):
//   1. both relays register with the controller using its relay token;
//   2. three nodes behind NATs (two port-keeping whose direct UDP is blocked, one --random-fully):
//      every pair pings through the standalone relays, which hold no WireGuard key;
//   3. the controller restarts: relayed pairs keep their relay endpoints and keep pinging through
//      it (the relays forward without the controller; the assignments are kept);
//   4. the relay of a pair is killed: the pair moves to the other relay and pings again;
//   5. the block between the two port-keeping sites is lifted: that pair leaves the relay for a
//      direct path within the 60 s retry period, as `wg show` endpoints prove.
import t from 'tap';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createLab, sweepStale, uniquePrefix, type Lab, type LabProcess } from './lab.ts';
import { natPrereqs } from './prereqs.ts';
import { BIN, bare, dropMeshctlEnv, meshTools, secs, sleep, stepper, type NodeOut, tail, untilTrue } from './mesh-helpers.ts';
import { decodeRelayToken, encodeRelayToken } from '../../src/core/relay-token.ts';

const STEM = 'rl';
const NET = 'rly';
const IF = 'mesh-rly';
/** "Pairs retry direct every 60 s": the retry slot, its 3 s window, one 1 s tick, and a check-in's margin. */
const UPGRADE_MS = 60_000 + 3_000 + 2_000;

dropMeshctlEnv();


const skip = await natPrereqs();
t.setTimeout(420_000);

t.test('standalone relays: registration, relayed pairs, controller restart, relay death, upgrade to direct', { skip, timeout: 400_000 }, async (t) => {
  await sweepStale(STEM);
  const lab: Lab = await createLab({
    prefix: uniquePrefix(STEM),
    hosts: ['ctl', 'ry1', 'ry2', 'pub'],
    sites: [
      { router: 'ra', nat: 'port-keeping', hosts: ['a1'] },
      { router: 'rb', nat: 'port-keeping', hosts: ['b1'] },
      { router: 'rc', nat: 'random', hosts: ['c1'] },
    ],
  });
  t.teardown(() => lab.destroy());
  const D = `${lab.dir('ctl')}/data`;
  const m = meshTools(lab, D);
  const procs: Record<string, LabProcess> = {};
  const dump = () => Object.entries(procs).map(([h, p]) => `${h}:\n${tail(p.output())}`).join('\n');
  const step = stepper(t, (st) => st.comment(dump()));
  const mesh: Record<string, string> = {};
  const relayIp: Record<string, string> = { ry1: lab.ip('ry1'), ry2: lab.ip('ry2') };
  const hostOf = (ep: string) => ep.slice(0, ep.lastIndexOf(':'));
  const keyOf = async (h: string) => (await m.nodesList(NET)).get(h)!.publicKey;
  const wgEndpoint = async (h: string, of: string) => {
    const k = await keyOf(of);
    return (await m.wgPeers(h, IF)).find((p) => p.publicKey === k)?.endpoint ?? '(none)';
  };
  const relayOf = (ep: string) => Object.entries(relayIp).find(([, ip]) => ip === hostOf(ep))?.[0];
  /** The endpoint `h` holds for `of`, once it is a relay's (at most 8 s): a pair that still has
   * direct candidates spends 3 s of each 60 s on them (both ends), and may be in that window now. */
  const relayedEndpoint = async (h: string, of: string) => {
    const end = Date.now() + 8000;
    let ep = await wgEndpoint(h, of);
    while (!relayOf(ep) && Date.now() < end) {
      await sleep(250);
      ep = await wgEndpoint(h, of);
    }
    return ep;
  };
  // Direct UDP between sites A and B is dropped in A's router, both ways: that pair can only be relayed.
  const blockAB = (op: '-I' | '-D') => Promise.all([['-d'], ['-s']].map(([dir]) => lab.run('ra', ['iptables', op, 'FORWARD', dir!, lab.publicIp('b1'), '-p', 'udp', '-j', 'DROP'])));
  const startRelay = (h: string, token: string) =>
    (procs[h] = lab.spawn(h, [process.execPath, BIN, 'relay', '--token', token, '--addr', `${lab.ip(h)}:3478`, '--name', h]));

  await step('1', 'two standalone relays register with the controller with its relay token', [], async (st) => {
    procs.ctl = await m.startController(60_000, ['--no-relay']);
    const token = (await readFile(join(D, 'relay.token'), 'utf8')).trim();
    st.match(token, /^mcr1\./, 'the controller wrote a relay token');
    // A wrong secret is refused.
    const bad = encodeRelayToken({ ...decodeRelayToken(token), secret: 'x'.repeat(43) });
    const wrong = lab.spawn('ry2', [process.execPath, BIN, 'relay', '--token', bad, '--addr', `${lab.ip('ry2')}:3479`, '--name', 'intruder']);
    for (const h of ['ry1', 'ry2']) startRelay(h, token);
    await untilTrue('both relays registered', 20_000, async () => /"relay":"ry1"[^\n]*relay attached/.test(procs.ctl!.output()) && /"relay":"ry2"[^\n]*relay attached/.test(procs.ctl!.output()));
    await untilTrue('the wrong secret refused', 10_000, async () => /wrong secret/.test(procs.ctl!.output()));
    st.notMatch(procs.ctl!.output(), /"relay":"intruder"/, 'a relay with a wrong secret never attaches');
    await wrong.stop();
  });

  const nodes = ['pub', 'a1', 'b1', 'c1'];
  await step('2', 'a public node and three NATed ones (direct A-B blocked, C --random-fully): every pair pings, the NATed pairs through the standalone relays', ['1'], async (st) => {
    await blockAB('-I');
    await m.admin(['network', 'create', NET, '--cidr', '10.46.0.0/24', '--keepalive', '20']);
    const { token } = await m.admin<{ token: string }>(['keys', 'create', NET, '--uses', '10']);
    for (const h of nodes) {
      const j = await m.join(h, token);
      mesh[h] = bare(j.address);
      procs[h] = m.spawnAgent(h);
    }
    const t0 = performance.now();
    const times = await m.meshPings(nodes, mesh, 60_000, t0);
    st.comment(`every pair pinged within ${secs(Math.max(...times.values()))} of the last join`);
    for (const [x, y] of [['a1', 'b1'], ['b1', 'a1'], ['a1', 'c1'], ['c1', 'a1'], ['b1', 'c1'], ['c1', 'b1']] as const) {
      const ep = await relayedEndpoint(x, y);
      st.ok(relayOf(ep), `${x} holds ${y} at a standalone relay: ${ep}`);
    }
    st.equal(hostOf(await wgEndpoint('pub', 'c1')), lab.publicIp('c1'), 'the public node and c1 are direct');
    const shown = await m.admin<NodeOut & { peers?: { name: string; path: string; relay: string | null }[] }>(['nodes', 'show', NET, 'a1']);
    st.equal(shown.peers?.find((p) => p.name === 'c1')?.path, 'relayed', `nodes show: ${JSON.stringify(shown.peers)}`);
    // The relays' hosts: no WireGuard interface, and neither node's private key in any file there.
    const keys = await Promise.all(nodes.map(async (h) => {
      const dir = join(m.etc(h), 'networks');
      const f = (await readdir(dir)).find((x) => x.endsWith('.key'));
      return f ? (await readFile(join(dir, f), 'utf8')).trim() : '';
    }));
    st.ok(keys.every((k) => k.length === 44), 'the nodes have private keys on their own hosts');
    for (const h of ['ry1', 'ry2']) {
      st.equal((await lab.run(h, ['wg', 'show', 'interfaces'])).stdout.trim(), '', `no WireGuard interface on ${h}`);
      const grep = await lab.run(h, ['grep', '-rlF', ...keys.flatMap((k) => ['-e', k]), lab.dir(h)], { allowFail: true });
      st.equal(grep.stdout.trim(), '', `no file on ${h} holds a node's key`);
    }
  });

  await step('3', 'the controller restarts: relayed pairs keep their relay pairs and endpoints, and keep pinging through them', ['2'], async (st) => {
    const before = { ca: await wgEndpoint('c1', 'a1'), ac: await wgEndpoint('a1', 'c1') };
    const opened = (h: string) => (procs[h]!.output().match(/relay pair \S+: ports/g) ?? []).length;
    const openedBefore = { ry1: opened('ry1'), ry2: opened('ry2') };
    // 0.2 s pings across the whole restart.
    const pings = m.runLong('c1', ['ping', '-n', '-i', '0.2', '-c', '100', '-W', '1', mesh.a1!], 60_000);
    await sleep(2000);
    const r0 = performance.now();
    await procs.ctl!.stop(10_000);
    await sleep(1000);
    procs.ctl = await m.startController(60_000, ['--no-relay']);
    st.comment(`controller down and up again in ${secs(performance.now() - r0)}`);
    const out = await pings;
    const got = Number(/(\d+) received/.exec(out.stdout)?.[1] ?? 0);
    st.comment(out.stdout.trim().split('\n').slice(-2).join(' / '));
    // The relays forward without the controller. A pair that still has direct candidates tries
    // them for 3 s in each 60 s (both ends leave the relay meanwhile): allow one such window.
    st.ok(got >= 80, `c1 -> a1 through the relay kept working across the restart: ${got}/100 replies`);
    st.match(procs.ctl!.output(), /relay pairs of the last run restored/, 'the restarted controller restored the pairs');
    await sleep(5000);
    st.notMatch(procs.ctl!.output(), /pair relayed/, 'the restarted controller assigned no pair anew');
    st.same({ ry1: opened('ry1'), ry2: opened('ry2') }, openedBefore, 'no relay opened a pair since the restart');
    // Both ends hold the same relay ports (polled: a retry window may be under way).
    await untilTrue('c1 and a1 at the same relay ports as before', 5000, async () => (await wgEndpoint('c1', 'a1')) === before.ca && (await wgEndpoint('a1', 'c1')) === before.ac);
    const shown = await m.admin<NodeOut & { peers?: { name: string; path: string; relay: string | null }[] }>(['nodes', 'show', NET, 'c1']);
    st.equal(shown.peers?.find((p) => p.name === 'a1')?.relay, before.ca, 'nodes show names the same relay endpoint');
    await m.pingUntil('c1', 'a1', mesh.a1!, 5000);
  });

  await step('4', 'the relay serving a pair dies: the pair moves to the other relay', ['2'], async (st) => {
    const ep = await wgEndpoint('c1', 'a1');
    const dead = relayOf(ep)!;
    const other = dead === 'ry1' ? 'ry2' : 'ry1';
    const t0 = performance.now();
    procs[dead]!.child.kill('SIGKILL');
    await procs[dead]!.exited;
    await untilTrue(`c1 and a1 move to ${other}`, 20_000, async () => relayOf(await wgEndpoint('c1', 'a1')) === other && relayOf(await wgEndpoint('a1', 'c1')) === other);
    st.comment(`both ends hold ${other} ${secs(performance.now() - t0)} after ${dead} was killed`);
    const back = await m.pingUntil('c1', 'a1', mesh.a1!, 20_000, t0);
    st.comment(`c1 -> a1 pings through ${other} ${secs(back)} after ${dead} was killed`);
    st.ok(back <= 15_000, `moved and pinging within 15 s (took ${secs(back)})`);
    await m.meshPings(nodes, mesh, 20_000);
    for (const [x, y] of [['a1', 'b1'], ['b1', 'a1'], ['a1', 'c1'], ['c1', 'b1']] as const) st.equal(relayOf(await relayedEndpoint(x, y)), other, `${x} holds ${y} at ${other}`);
  });

  await step('5', 'the A-B block is lifted: the pair leaves the relay for a direct path within the 60 s retry period', ['2'], async (st) => {
    const via = await relayedEndpoint('a1', 'b1');
    st.ok(relayOf(via), `a1 holds b1 at a relay before: ${via}`);
    await blockAB('-D');
    const t0 = performance.now();
    let took = -1;
    while (performance.now() - t0 < UPGRADE_MS + 15_000) {
      const ab = await wgEndpoint('a1', 'b1');
      const ba = await wgEndpoint('b1', 'a1');
      if (hostOf(ab) === lab.publicIp('b1') && hostOf(ba) === lab.publicIp('a1')) {
        took = performance.now() - t0;
        break;
      }
      await sleep(500);
    }
    st.ok(took >= 0, `a1 and b1 hold each other at the NATs' public addresses (now ${await wgEndpoint('a1', 'b1')} / ${await wgEndpoint('b1', 'a1')})`);
    st.comment(`direct ${secs(took)} after the block was lifted (limit ${secs(UPGRADE_MS)})`);
    st.ok(took <= UPGRADE_MS, `within the retry period: ${secs(took)}`);
    await m.pingUntil('a1', 'b1', mesh.b1!, 5000);
    // It stays direct (the relay is released once both ends report it).
    await sleep(20_000);
    st.equal(hostOf(await wgEndpoint('a1', 'b1')), lab.publicIp('b1'), 'still direct 20 s later');
    const shown = await m.admin<NodeOut & { peers?: { name: string; path: string; relay: string | null }[] }>(['nodes', 'show', NET, 'a1']);
    const b1 = shown.peers?.find((p) => p.name === 'b1');
    st.equal(b1?.path, 'direct', `nodes show says direct: ${JSON.stringify(b1)}`);
    st.equal(b1?.relay, null, 'and the relay pair was released');
  });
});
