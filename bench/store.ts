// `npm run bench:store`: throughput and latency of durable writes on the embedded (sql.js) store,
// with group commit on and off, on a database seeded with 5,000 nodes.
//
//   npm run bench:store -- [--nodes 5000] [--records 500] [--concurrency 64] [--on 4000] [--off 1000] [--joins 2000] [--dir DIR]
//
// Each write is a real Store call that resolves only once its change is durably on disk:
// alternately a custom DNS record added and a node's endpoint updated. Both modes start from a
// copy of the same seeded file. A last row measures joinNode on that file (group commit on):
// key spent, address taken from the network's pool, node inserted, durable. Then one node's full
// view in that network (members read from the store, then built) is timed. Goal lines: at least
// 1,000 joins/s into the 5,000-node network, one view in under 20 ms. The temp directory (or
// --dir) decides which disk is measured.
import { parseArgs } from 'node:util';
import { copyFile, mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { SqliteStore, DB_FILE } from '../src/controller/store/sqlite/index.ts';
import { newNetwork } from '../src/core/network.ts';
import { hashSecret, newSecret } from '../src/core/secret.ts';
import { uintToIp } from '../src/core/cidr.ts';
import { ViewBuilder } from '../src/controller/node-api/view-builder.ts';

const { values: opt } = parseArgs({
  options: {
    nodes: { type: 'string', default: '5000' },
    records: { type: 'string', default: '500' },
    concurrency: { type: 'string', default: '64' },
    on: { type: 'string', default: '4000' },
    off: { type: 'string', default: '1000' },
    joins: { type: 'string', default: '2000' },
    dir: { type: 'string' },
  },
});
const NODES = Number(opt.nodes);
const RECORDS = Number(opt.records);
const CONCURRENCY = Number(opt.concurrency);
const NET = 'bench';
const CIDR = '10.100.0.0/16';
const BASE = (10 << 24 >>> 0) + (100 << 16);

const MiB = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(2)} MiB`;
const ms = (x: number) => x.toFixed(x < 10 ? 2 : 1);

/** Runs `total` tasks with at most `concurrency` at a time; resolves to each task's latency (ms). */
async function pool(total: number, concurrency: number, task: (i: number) => Promise<unknown>): Promise<number[]> {
  const lat: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < total) {
      const i = next++;
      const t0 = performance.now();
      await task(i);
      lat.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
  return lat;
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

interface Seeded {
  ms: number;
  nodeIds: string[];
  key: { network: string; name: string; secret: string };
}

async function seed(dir: string): Promise<Seeded> {
  const t0 = performance.now();
  const store = await SqliteStore.open(dir);
  try {
    await store.createNetwork(newNetwork({ name: NET, cidr: CIDR }), 'bench');
    const secret = newSecret();
    await store.createKey({ network: NET, name: 'seed', secretHash: hashSecret(secret), usesRemaining: null, expiresAt: null }, 'bench');
    const key = { network: NET, name: 'seed', secret };
    const now = new Date();
    const nodeIds: string[] = [];
    // Nodes go in with plain SQL in one transaction, the fastest way to a big network (joins at
    // this size are measured on their own below; the network's address pool is built from
    // these rows by the first of them, a warm-up join).
    const at = now.toISOString();
    await store.engine.write((sql) => {
      for (let i = 0; i < NODES; i++) {
        const id = randomUUID();
        nodeIds.push(id);
        sql.run(
          `INSERT INTO nodes (id, network, name, address, public_key, endpoint, endpoint_stated, listen_port, approved, credential_hash, created_at, last_checkin)
           VALUES (?, ?, ?, ?, ?, ?, 1, 51821, 1, ?, ?, ?)`,
          [id, NET, `node-${i}`, uintToIp(BASE + 1 + i), randomBytes(32).toString('base64'), `203.0.113.${(i % 250) + 1}:51821`, hashSecret(newSecret()), at, at],
        );
      }
    });
    // custom records in the upper half of the range, away from node addresses
    await pool(RECORDS, CONCURRENCY, (i) => store.addDns(NET, `svc-${i}`, uintToIp(BASE + 0x8000 + i), 'bench'));
    return { ms: performance.now() - t0, nodeIds, key };
  } finally {
    await store.close();
  }
}

interface Result {
  label: string;
  writes: number;
  seconds: number;
  lat: number[];
  dbBytes: number;
  flushMs: number;
  /** CPU (user + system) of this process over the timed writes, ms */
  cpuMs: number;
  /** 1-minute load average when the timed writes started and ended */
  load: [number, number];
}

type Kind = 'mixed' | 'join';

async function run(label: string, seeded: string, dir: string, groupCommit: boolean, writes: number, s: Seeded, kind: Kind = 'mixed'): Promise<Result> {
  const nodeIds = s.nodeIds;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await copyFile(join(seeded, DB_FILE), join(dir, DB_FILE));
  const store = await SqliteStore.open(dir, { groupCommit });
  try {
    // the cost of one flush of this image, alone: export() + temp file, fsync, rename, dir fsync
    const flushes: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      await store.engine.flush();
      flushes.push(performance.now() - t0);
    }
    flushes.sort((a, b) => a - b);
    const now = new Date();
    const joinOne = (i: number) =>
      store.joinNode(s.key, {
        id: randomUUID(), network: NET, name: `join-${i}`, publicKey: randomBytes(32).toString('base64'),
        endpoint: null, endpointStated: false, listenPort: 51821, credentialHash: hashSecret(newSecret()),
      }, now);
    const write = kind === 'join' ? joinOne : (i: number) =>
      i % 2 === 0
        ? store.addDns(NET, `${label.replace(/\W+/g, '-').toLowerCase()}-${i}`, uintToIp(BASE + 0xc000 + i), 'bench')
        : store.updateNode(nodeIds[i % nodeIds.length]!, { endpoint: `198.51.100.${(i % 250) + 1}:${40000 + (i % 20000)}` });
    await pool(kind === 'join' ? 5 : 20, 1, (i) => write(writes + i)); // warm-up, not counted
    const load0 = loadavg()[0]!;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const lat = await pool(writes, CONCURRENCY, write);
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const load: [number, number] = [load0, loadavg()[0]!];
    const dbBytes = (await stat(join(dir, DB_FILE))).size;
    return { label, writes, seconds, lat: lat.sort((a, b) => a - b), dbBytes, flushMs: flushes[2]!, cpuMs: (cpu.user + cpu.system) / 1000, load };
  } finally {
    await store.close();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** One node's full view (itself, settings, 4,999 peers), timed two ways: built from the
 * members the controller holds (what every join reply, check-in and snapshot costs: the view
 * builder keeps them up to date from change values), and with the members read from the store
 * first (a fresh ViewBuilder: the first view of a network after a controller starts). */
async function viewBuild(seeded: string, s: Seeded): Promise<{ cold: number[]; warm: number[] }> {
  const store = await SqliteStore.open(seeded);
  try {
    const cold: number[] = [];
    const warm: number[] = [];
    for (let i = 0; i < 11; i++) {
      const node = (await store.getNodeById(s.nodeIds[(i * 397) % s.nodeIds.length]!))!;
      const vb = new ViewBuilder(store);
      let t0 = performance.now();
      const v = await vb.view(node);
      cold.push(performance.now() - t0);
      if (v.peers.length !== NODES - 1) throw new Error(`view has ${v.peers.length} peers, expected ${NODES - 1}`);
      const other = (await store.getNodeById(s.nodeIds[(i * 397 + 1) % s.nodeIds.length]!))!;
      t0 = performance.now();
      await vb.view(other);
      warm.push(performance.now() - t0);
    }
    return { cold: cold.sort((a, b) => a - b), warm: warm.sort((a, b) => a - b) };
  } finally {
    await store.close();
  }
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')).join('\n');
}

const root = opt.dir ? await mkdtemp(join(opt.dir, 'meshctl-bench-')) : await mkdtemp(join(tmpdir(), 'meshctl-bench-'));
try {
  console.log(`meshctl store benchmark: sql.js engine, Node ${process.version}, ${cpus().length} CPUs, data in ${root}`);
  const seededDir = join(root, 'seed');
  await mkdir(seededDir, { mode: 0o700 });
  const s = await seed(seededDir);
  const seededBytes = (await stat(join(seededDir, DB_FILE))).size;
  console.log(`seed: ${NODES} nodes + ${RECORDS} DNS records (addDns) in one ${CIDR}: ${(s.ms / 1000).toFixed(1)} s; database ${MiB(seededBytes)}`);
  console.log(`workload: durable writes, alternately a DNS record add and a node endpoint update; concurrency ${CONCURRENCY}\n`);

  const on = await run('group commit ON', seededDir, join(root, 'on'), true, Number(opt.on), s);
  const off = await run('group commit OFF', seededDir, join(root, 'off'), false, Number(opt.off), s);
  const joins = Number(opt.joins) > 0 ? await run('joinNode, group commit ON', seededDir, join(root, 'join'), true, Number(opt.joins), s, 'join') : undefined;
  const view = await viewBuild(seededDir, s);

  const rows = [['mode', 'writes', 'time s', 'writes/s', 'p50 ms', 'p99 ms', 'max ms', 'CPU ms/write', '1 flush ms', 'DB after']];
  for (const r of [on, off, ...(joins ? [joins] : [])]) {
    rows.push([r.label, String(r.writes), r.seconds.toFixed(2), (r.writes / r.seconds).toFixed(0), ms(pct(r.lat, 50)), ms(pct(r.lat, 99)), ms(r.lat.at(-1)!), (r.cpuMs / r.writes).toFixed(3), ms(r.flushMs), MiB(r.dbBytes)]);
  }
  console.log(table(rows));
  const tput = (r: Result) => r.writes / r.seconds;
  console.log(`\nON/OFF in this run: throughput x${(tput(on) / tput(off)).toFixed(1)}, ` +
    `p50 latency x${(pct(on.lat, 50) / pct(off.lat, 50)).toFixed(2)}, p99 latency x${(pct(on.lat, 99) / pct(off.lat, 99)).toFixed(2)}`);
  console.log('("1 flush ms": median time of one flush of the seeded image, export + temp file + fsync + rename + dir fsync, with nothing else running;');
  console.log(' "CPU ms/write": this process\'s CPU over the timed writes, flushes and the bench\'s making of each request included)');
  console.log(`\none node's full view in the ${NODES}-node network, median of ${view.warm.length}: ${ms(median(view.warm))} ms from the members the controller holds ` +
    `(max ${ms(view.warm.at(-1)!)}); ${ms(median(view.cold))} ms (max ${ms(view.cold.at(-1)!)}) with the members read from the store first (the first view after a start)`);
  console.log(`\ngoals (load average now ${loadavg().map((x) => x.toFixed(1)).join(' ')}, on ${cpus().length} CPUs):`);
  if (joins) {
    // The goal is the wall rate. On a shared machine it falls with the load, so the line also
    // gives the load during the joins and the CPU per join (the rate with a core to itself).
    const rate = tput(joins);
    const cpuMs = joins.cpuMs / joins.writes;
    console.log(`${rate >= 1000 ? 'PASS' : 'FAIL'} joins into a ${NODES}-node network: ${rate.toFixed(0)}/s wall (goal >= 1,000/s: x${(rate / 1000).toFixed(2)}), ` +
      `load average ${joins.load[0].toFixed(1)} -> ${joins.load[1].toFixed(1)} during the joins; ` +
      `${cpuMs.toFixed(3)} ms of CPU per join, flushes included (${(1000 / cpuMs).toFixed(0)} joins per CPU-second)`);
  }
  const v = median(view.warm);
  console.log(`${v < 20 ? 'PASS' : 'FAIL'} one node's full view in a ${NODES}-node network: ${ms(v)} ms (goal < 20 ms: x${(v / 20).toFixed(2)} of the budget)`);
} finally {
  await rm(root, { recursive: true, force: true });
}
