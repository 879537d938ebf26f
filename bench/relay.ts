// Relay benchmark (issue 10, check 5): throughput and latency of a relayed pair against a direct
// pair in the same run, in the NAT lab (real wireguard-go, real iptables NAT, the controller's
// in-process relay). Run as root: npm run bench:relay [-- --seconds 5 --pings 40]
//
// Lab: ctl (controller + relay) and pub on the public segment; a1 behind a port-keeping NAT, b1
// behind another, c1 behind a --random-fully NAT. b1 -> a1 is direct (hole punched), c1 -> a1 is
// relayed (pub observes c1's per-destination mapping, so the pair gets the relay at once). Both
// senders are behind one NAT and reach the same receiver a1: the only difference is the relay hop.
// iperf3 (TCP, one stream) measures throughput inside the tunnel; ping measures round trips.
import { parseArgs } from 'node:util';
import { cpus, loadavg } from 'node:os';
import { createLab, sweepStale, uniquePrefix, type LabProcess } from '../test/e2e/lab.ts';
import { BIN, bare, dropMeshctlEnv, meshTools } from '../test/e2e/mesh-helpers.ts';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '5' }, pings: { type: 'string', default: '40' } } });
const SECONDS = Math.max(1, Number(values.seconds));
const PINGS = Math.max(5, Number(values.pings));
const NET = 'bench';
const IF = 'mesh-bench';

dropMeshctlEnv();
if (process.getuid?.() !== 0) {
  console.error('Error (NOT_ROOT): the relay benchmark builds a network-namespace lab\nTry this: run it as root');
  process.exit(1);
}

await sweepStale('nb');
const lab = await createLab({
  prefix: uniquePrefix('nb'),
  hosts: ['ctl', 'pub'],
  sites: [
    { router: 'ra', nat: 'port-keeping', hosts: ['a1'] },
    { router: 'rb', nat: 'port-keeping', hosts: ['b1'] },
    { router: 'rc', nat: 'random', hosts: ['c1'] },
  ],
});
const stop = () => void lab.destroy().finally(() => process.exit(130));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
try {
  const m = meshTools(lab, `${lab.dir('ctl')}/data`);
  await m.startController();
  await m.admin(['network', 'create', NET, '--cidr', '10.45.0.0/24']);
  const { token } = await m.admin<{ token: string }>(['keys', 'create', NET, '--uses', '5']);
  const mesh: Record<string, string> = {};
  const agents: LabProcess[] = [];
  for (const h of ['pub', 'a1', 'b1', 'c1']) {
    mesh[h] = bare((await m.join(h, token)).address);
    agents.push(lab.spawn(h, [process.execPath, BIN, 'agent', '--config-dir', m.etc(h)]));
  }
  await m.meshPings(['pub', 'a1', 'b1', 'c1'], mesh, 30_000);

  const endpointOf = async (h: string, of: string) => {
    const key = (await m.nodesList(NET)).get(of)!.publicKey;
    return (await m.wgPeers(h, IF)).find((p) => p.publicKey === key)?.endpoint ?? '?';
  };
  const direct = await endpointOf('b1', 'a1');
  const relayed = await endpointOf('c1', 'a1');
  if (!direct.startsWith(`${lab.publicIp('a1')}:`)) throw new Error(`b1 -> a1 is not direct: ${direct}`);
  if (!relayed.startsWith(`${lab.ip('ctl')}:`)) throw new Error(`c1 -> a1 is not relayed: ${relayed}`);

  const server = lab.spawn('a1', ['iperf3', '-s', '-B', mesh.a1!]);
  await sleep(500);
  const iperf = async (from: string) => {
    const r = await m.runLong(from, ['iperf3', '-c', mesh.a1!, '-t', String(SECONDS), '-J'], (SECONDS + 20) * 1000);
    const j = JSON.parse(r.stdout) as { end?: { sum_received?: { bits_per_second: number } }; error?: string };
    if (!j.end?.sum_received) throw new Error(`iperf3 from ${from}: ${j.error ?? r.stderr}`);
    return j.end.sum_received.bits_per_second / 1e6;
  };
  const rtt = async (from: string) => {
    const r = await m.runLong(from, ['ping', '-n', '-q', '-c', String(PINGS), '-i', '0.05', mesh.a1!], 60_000);
    const mm = /= ([\d.]+)\/([\d.]+)\/([\d.]+)\/([\d.]+) ms/.exec(r.stdout);
    if (!mm) throw new Error(`ping from ${from}: ${r.stdout}${r.stderr}`);
    return { avg: Number(mm[2]), max: Number(mm[3]) };
  };
  const rttDirect = await rtt('b1');
  const rttRelayed = await rtt('c1');
  const bwDirect = await iperf('b1');
  const bwRelayed = await iperf('c1');
  await server.stop();

  const f = (n: number, d = 1) => n.toFixed(d);
  console.log(`relay benchmark (${cpus().length} cores, load ${loadavg().map((x) => x.toFixed(1)).join(' ')}; iperf3 TCP ${SECONDS} s, ${PINGS} pings)`);
  console.log(`  direct  b1 -> a1 via ${direct}:  ${f(bwDirect)} Mbit/s, rtt avg ${f(rttDirect.avg, 3)} ms (max ${f(rttDirect.max, 3)})`);
  console.log(`  relayed c1 -> a1 via ${relayed}: ${f(bwRelayed)} Mbit/s, rtt avg ${f(rttRelayed.avg, 3)} ms (max ${f(rttRelayed.max, 3)})`);
  console.log(`  throughput ratio relayed/direct: ${f(bwRelayed / bwDirect, 2)} (goal >= 0.5)`);
  console.log(`  added latency: ${f(rttRelayed.avg - rttDirect.avg, 3)} ms per round trip (ratio ${f(rttRelayed.avg / rttDirect.avg, 2)})`);
  console.log(JSON.stringify({ directMbps: bwDirect, relayedMbps: bwRelayed, throughputRatio: bwRelayed / bwDirect, directRttMs: rttDirect.avg, relayedRttMs: rttRelayed.avg, addedRttMs: rttRelayed.avg - rttDirect.avg }));
  for (const a of agents) await a.stop();
} finally {
  await lab.destroy();
}
