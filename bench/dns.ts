// `npm run bench:dns`: queries per second and latency of the agent's DNS responder against a bare
// UDP responder built on the same wire library (dns-packet) that answers every query with one
// fixed record, measured in the same run, on loopback.
//
//   npm run bench:dns -- [--nodes 1000] [--records 100] [--seconds 4] [--rounds 3] [--inflight 64]
//
// Each responder runs in its own child process (as the agent does), one at a time; the load
// generator (this process) keeps `--inflight` queries outstanding on one UDP socket and times
// each query from send to answer. The responder under test serves a zone of --nodes node names
// and --records custom records (a tenth of them CNAMEs); queries ask for random names of it, one
// in ten unknown (NXDOMAIN). Rounds alternate bare / meshctl so that drift in the machine's load
// hits both alike; the figures are the medians of the rounds.
import { parseArgs } from 'node:util';
import { createSocket } from 'node:dgram';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import * as packet from 'dns-packet';
import { DnsServer } from '../src/agent/dns/server.ts';
import { zoneOf } from '../src/core/dns-zone.ts';
import { buildView, type ViewNode } from '../src/core/view.ts';
import { newNetwork } from '../src/core/network.ts';
import { uintToIp } from '../src/core/cidr.ts';
import type { RecordView } from '../src/core/dns.ts';

const { values: opt } = parseArgs({
  options: {
    nodes: { type: 'string', default: '1000' },
    records: { type: 'string', default: '100' },
    seconds: { type: 'string', default: '4' },
    rounds: { type: 'string', default: '3' },
    inflight: { type: 'string', default: '64' },
    serve: { type: 'string' },
    port: { type: 'string' },
  },
});
const NODES = Number(opt.nodes);
const RECORDS = Number(opt.records);
const BASE = (10 << 24 >>> 0) + (100 << 16);
const DOMAIN = 'bench.internal';

/** The zone under test: a view of node 1 in a network of NODES nodes and RECORDS records. */
function benchView() {
  const node = (i: number): ViewNode => ({ id: `id${i}`, name: `n${i}`, address: uintToIp(BASE + i), publicKey: `pk${i}`, endpoint: null, listenPort: 51821, approved: true });
  const members = Array.from({ length: NODES }, (_, i) => node(i + 1));
  const records: RecordView[] = Array.from({ length: RECORDS }, (_, i) => (i % 10 === 0 ? { name: `r${i}`, type: 'CNAME', address: `n${i + 1}` } : { name: `r${i}`, type: 'A', address: uintToIp(BASE + 60000 + i) }));
  return buildView(members[0]!, { ...newNetwork({ name: 'bench', cidr: '10.100.0.0/16', domain: DOMAIN }), version: 2 }, members, [], records);
}

/** Child: one responder on 127.0.0.1:port; prints "ready" once it answers. */
async function serve(kind: string, port: number): Promise<void> {
  if (kind === 'meshctl') {
    const server = new DnsServer({ port });
    server.zones.set(zoneOf(benchView()));
    await server.listen('127.0.0.1');
  } else {
    // The bare responder: decode, answer the question with one fixed A record, encode.
    const s = createSocket('udp4');
    s.on('message', (msg, r) => {
      let q: packet.Packet;
      try {
        q = packet.decode(msg);
      } catch {
        return;
      }
      const question = q.questions?.[0];
      if (!question) return;
      const out = packet.encode({ type: 'response', id: q.id ?? 0, flags: packet.AUTHORITATIVE_ANSWER, questions: [question], answers: [{ type: 'A', name: question.name, class: 'IN', ttl: 5, data: '10.100.0.1' }] } as packet.Packet);
      s.send(out, r.port, r.address);
    });
    await new Promise<void>((resolve) => s.bind(port, '127.0.0.1', () => resolve()));
  }
  process.stdout.write('ready\n');
}

function startServer(kind: string, port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--serve', kind, '--port', String(port), '--nodes', String(NODES), '--records', String(RECORDS)], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', () => resolve(child));
    child.once('exit', (c) => reject(new Error(`${kind} responder exited with ${c}`)));
  });
}

interface RoundResult { qps: number; p50: number; p99: number; max: number; lost: number; wrong: number }

/** Keeps `inflight` queries outstanding against 127.0.0.1:port for `seconds`. */
async function load(port: number, seconds: number, inflight: number, checkAnswers: boolean): Promise<RoundResult> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const names = Array.from({ length: 4096 }, (_, i) => {
    const k = (i * 7919) % 10;
    if (k === 0) return { name: `nobody${i}.${DOMAIN}`, expect: 'NXDOMAIN' };
    if (k === 1) return { name: `r${i % RECORDS}.${DOMAIN}`, expect: 'NOERROR' };
    return { name: `n${1 + ((i * 31) % NODES)}.${DOMAIN}`, expect: 'NOERROR' };
  });
  const queries = names.map((n, i) => packet.encode({ type: 'query', id: i, flags: packet.RECURSION_DESIRED, questions: [{ type: 'A', name: n.name }] } as packet.Packet));
  const sentAt = new Float64Array(65536);
  const latencies: number[] = [];
  let next = 0;
  let wrong = 0;
  let outstanding = 0;
  let lost = 0;
  const end = performance.now() + seconds * 1000;
  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));
  const send = () => {
    const i = next++ % queries.length;
    const id = next & 0xffff;
    const q = queries[i]!;
    q.writeUInt16BE(id, 0);
    sentAt[id] = performance.now();
    outstanding++;
    s.send(q, port, '127.0.0.1');
  };
  s.on('message', (m) => {
    const id = m.readUInt16BE(0);
    const now = performance.now();
    if (sentAt[id]) latencies.push(now - sentAt[id]!);
    sentAt[id] = 0;
    outstanding--;
    if (checkAnswers && latencies.length % 97 === 0) {
      const r = packet.decode(m) as packet.Packet & { rcode?: string };
      if (r.rcode !== 'NOERROR' && r.rcode !== 'NXDOMAIN') wrong++;
    }
    if (now < end) send();
    else if (outstanding === 0) finish();
  });
  const t0 = performance.now();
  for (let i = 0; i < inflight; i++) send();
  // Lost datagrams are re-sent after a quiet 200 ms, so the window stays full.
  const refill = setInterval(() => {
    const now = performance.now();
    let lostNow = 0;
    for (let id = 0; id < 65536; id++) if (sentAt[id] && now - sentAt[id]! > 200) { sentAt[id] = 0; lostNow++; }
    outstanding -= lostNow;
    lost += lostNow;
    if (now < end) for (let i = 0; i < lostNow; i++) send();
    else if (outstanding <= 0) finish();
  }, 100);
  await done;
  const elapsed = (performance.now() - t0) / 1000;
  clearInterval(refill);
  s.close();
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? NaN;
  return { qps: latencies.length / elapsed, p50: pct(0.5), p99: pct(0.99), max: latencies.at(-1) ?? NaN, lost, wrong };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  if (opt.serve) return serve(opt.serve, Number(opt.port));
  const seconds = Number(opt.seconds);
  const inflight = Number(opt.inflight);
  const rounds = Number(opt.rounds);
  const results: Record<string, RoundResult[]> = { bare: [], meshctl: [] };
  console.log(`bench:dns: ${NODES} nodes + ${RECORDS} records in ${DOMAIN}; ${inflight} queries in flight; ${rounds} rounds of ${seconds} s per responder; Node ${process.version}`);
  for (let r = 0; r < rounds; r++) {
    for (const kind of ['bare', 'meshctl'] as const) {
      const port = 20000 + Math.floor(Math.random() * 30000);
      const child = await startServer(kind, port);
      try {
        await load(port, 0.5, inflight, false); // warm-up
        const res = await load(port, seconds, inflight, kind === 'meshctl');
        results[kind]!.push(res);
        console.log(`  round ${r + 1} ${kind.padEnd(7)} ${Math.round(res.qps).toLocaleString('en-US').padStart(7)} q/s  p50 ${res.p50.toFixed(2)} ms  p99 ${res.p99.toFixed(2)} ms  max ${res.max.toFixed(1)} ms  lost ${res.lost}${res.wrong ? `  WRONG ${res.wrong}` : ''}`);
      } finally {
        child.kill('SIGKILL');
      }
    }
  }
  const row = (kind: string) => {
    const rs = results[kind]!;
    return { qps: median(rs.map((x) => x.qps)), p50: median(rs.map((x) => x.p50)), p99: median(rs.map((x) => x.p99)) };
  };
  const bare = row('bare');
  const mesh = row('meshctl');
  console.log('\n| responder | queries/s | p50 ms | p99 ms |\n| --- | ---: | ---: | ---: |');
  console.log(`| bare dns-packet, one fixed record | ${Math.round(bare.qps).toLocaleString('en-US')} | ${bare.p50.toFixed(2)} | ${bare.p99.toFixed(2)} |`);
  console.log(`| meshctl agent responder (${NODES} nodes, ${RECORDS} records) | ${Math.round(mesh.qps).toLocaleString('en-US')} | ${mesh.p50.toFixed(2)} | ${mesh.p99.toFixed(2)} |`);
  console.log(`\nmeshctl / bare: ${(mesh.qps / bare.qps).toFixed(2)}x the queries per second (goal >= 0.8x); p99 ${(mesh.p99 / bare.p99).toFixed(2)}x`);
}

await main();
