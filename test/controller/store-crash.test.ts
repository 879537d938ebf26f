// Crash safety of the embedded store, end to end: the real `meshctl server` process takes a
// stream of concurrent admin writes and is killed with SIGKILL at a random moment, 50 times on
// the same data directory. Every write that was acknowledged (201) before the kill must be in
// the database file and served again after the restart, and the file must pass SQLite's
// integrity check every time.
import t from 'tap';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import initSqlJs from 'sql.js';
import { api, killAllStarted, startServer, type ServerProcess } from '../helpers/server-process.ts';

const ROUNDS = 50;
const IN_FLIGHT = 32;
const MAX_KILL_DELAY_MS = 250;
const NET = 'crash';

const require = createRequire(import.meta.url);
const SQL = await initSqlJs({ locateFile: () => require.resolve('sql.js/dist/sql-wasm.wasm') });

t.teardown(killAllStarted);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The i-th /28 of 172.16.0.0/12: a range no other test network overlaps. */
function cidrOf(i: number): string {
  const base = (172 << 24 >>> 0) + (16 << 16) + i * 16;
  return `${base >>> 24}.${(base >>> 16) & 255}.${(base >>> 8) & 255}.${base & 255}/28`;
}

interface Acked {
  dns: Map<string, string>; // name -> address
  nets: Map<string, string>; // name -> cidr
}

interface Burst {
  attempted: number;
  acked: number;
  /** Requests sent but not answered when the kill came. */
  unanswered: number;
  /** Non-201 answers: each one is a bug (every request is valid and unique). */
  unexpected: string[];
}

/** Keeps IN_FLIGHT writes going against `srv` and SIGKILLs it `delayMs` after the first write
 * was sent, or (`afterFirstAck`) after the first one was acknowledged. */
async function writeThenKill(srv: ServerProcess, round: number, delayMs: number, afterFirstAck: boolean, acked: Acked, counter: { net: number }): Promise<Burst> {
  let stopped = false;
  let firstAck!: () => void;
  const firstAcked = new Promise<void>((r) => (firstAck = r));
  let seq = 0;
  const b: Burst = { attempted: 0, acked: 0, unanswered: 0, unexpected: [] };
  const worker = async () => {
    while (!stopped) {
      const i = seq++;
      const isNet = i % 8 === 7;
      const name = isNet ? `c${round}-${i}` : `r${round}-${i}`;
      const cidr = isNet ? cidrOf(counter.net++) : '';
      const address = `10.77.${(i >> 8) & 255}.${(i & 255) || 1}`;
      b.attempted++;
      let res: Response;
      try {
        res = isNet ? await api(srv, 'POST', '/networks', { name, cidr }) : await api(srv, 'POST', `/networks/${NET}/dns`, { name, address });
      } catch {
        b.unanswered++; // the connection died with the server: not acknowledged
        continue;
      }
      // A 201 was sent only after the write was durable: it counts even if the body is cut off.
      if (res.status === 201) {
        b.acked++;
        firstAck();
        if (isNet) acked.nets.set(name, cidr);
        else acked.dns.set(name, address);
      } else {
        b.unexpected.push(`${res.status} for ${name}`);
      }
      await res.arrayBuffer().catch(() => {});
    }
  };
  const workers = Array.from({ length: IN_FLIGHT }, worker);
  if (afterFirstAck) await Promise.race([firstAcked, sleep(5000)]);
  await sleep(delayMs);
  stopped = true;
  const exit = await srv.kill9();
  assert.equal(exit.signal, 'SIGKILL', `round ${round}: the server was not alive at the kill (exit ${exit.code}):\n${srv.stderr()}`);
  await Promise.all(workers);
  return b;
}

/** Opens the database file as it was left on disk, with sql.js directly. */
async function inspectFile(path: string, when: string): Promise<{ integrity: string[]; dns: Map<string, string>; nets: Map<string, string> }> {
  const db = new SQL.Database(await readFile(path));
  try {
    const q = (sql: string, params: (string | number)[] = []) => {
      const st = db.prepare(sql);
      st.bind(params);
      const rows: Record<string, unknown>[] = [];
      while (st.step()) rows.push(st.getAsObject());
      st.free();
      return rows;
    };
    return {
      integrity: q('PRAGMA integrity_check').map((r) => String(r.integrity_check)),
      dns: new Map(q('SELECT name, address FROM dns_records WHERE network = ?', [NET]).map((r) => [String(r.name), String(r.address)])),
      nets: new Map(q('SELECT name, cidr FROM networks').map((r) => [String(r.name), String(r.cidr)])),
    };
  } catch (err) {
    throw new Error(`${when}: the database file is not a readable meshctl database: ${(err as Error).message}`, { cause: err });
  } finally {
    db.close();
  }
}

function assertContains(have: Map<string, string>, want: Map<string, string>, what: string): void {
  const missing = [...want].filter(([k, v]) => have.get(k) !== v).map(([k]) => k);
  assert.deepEqual(missing, [], `${missing.length} acknowledged ${what} lost: ${missing.slice(0, 10).join(', ')}`);
}

t.test(`${ROUNDS} rounds of concurrent writes and kill -9: acknowledged writes survive, the file stays intact`, { timeout: 420_000 }, async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'meshctl-crash-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  t.teardown(killAllStarted);
  const dbPath = join(dataDir, 'meshctl.db');
  const acked: Acked = { dns: new Map(), nets: new Map() };
  const counter = { net: 0 };
  const stats = { attempted: 0, acked: 0, unanswered: 0, killedMidFlight: 0, startMs: 0 };

  let t0 = Date.now();
  let srv = await startServer(dataDir);
  stats.startMs += Date.now() - t0;
  const created = await api(srv, 'POST', '/networks', { name: NET, cidr: '10.77.0.0/16' });
  assert.equal(created.status, 201);
  acked.nets.set(NET, '10.77.0.0/16');

  for (let round = 0; round < ROUNDS; round++) {
    // A random moment: in one round of four counted from the first request (so the kill may come
    // before anything was acknowledged, even during the first flush), otherwise from the first
    // acknowledgment (so the kill lands in the steady stream of group commits).
    const delay = Math.random() * MAX_KILL_DELAY_MS;
    const killedPid = srv.pid;
    const b = await writeThenKill(srv, round, delay, round % 4 !== 0, acked, counter);
    assert.deepEqual(b.unexpected, [], `round ${round}: writes refused before the kill`);
    stats.attempted += b.attempted;
    stats.acked += b.acked;
    stats.unanswered += b.unanswered;
    if (b.unanswered > 0) stats.killedMidFlight++;

    // the file as the killed server left it
    const file = await inspectFile(dbPath, `round ${round}`);
    assert.deepEqual(file.integrity, ['ok'], `round ${round}: integrity check of the database file`);
    assertContains(file.dns, acked.dns, `DNS records (round ${round}, file)`);
    assertContains(file.nets, acked.nets, `networks (round ${round}, file)`);

    // restart on the same directory: the stale lock of the killed pid is taken over, and the
    // server serves exactly what the file holds
    t0 = Date.now();
    srv = await startServer(dataDir);
    stats.startMs += Date.now() - t0;
    const dns = (await (await api(srv, 'GET', `/networks/${NET}/dns`)).json()) as { name: string; address: string; source: string }[];
    const nets = (await (await api(srv, 'GET', '/networks')).json()) as { name: string; cidr: string }[];
    const served = { dns: new Map(dns.filter((r) => r.source === 'custom').map((r) => [r.name, r.address])), nets: new Map(nets.map((n) => [n.name, n.cidr])) };
    assertContains(served.dns, acked.dns, `DNS records (round ${round}, after restart)`);
    assertContains(served.nets, acked.nets, `networks (round ${round}, after restart)`);
    assert.deepEqual(served.dns, file.dns, `round ${round}: the restarted server serves what the file holds`);
    assert.deepEqual(served.nets, file.nets);
    const temps = (await readdir(dataDir)).filter((f) => f.startsWith(`meshctl.db.tmp-${killedPid}-`));
    assert.deepEqual(temps, [], `round ${round}: temp files of the killed server were not cleaned up`);
  }

  const final = await srv.stop();
  assert.equal(final.code, 0, `clean shutdown after the last round:\n${srv.stderr()}`);
  const file = await inspectFile(dbPath, 'after the clean shutdown');
  assert.deepEqual(file.integrity, ['ok']);
  assertContains(file.dns, acked.dns, 'DNS records (after clean shutdown)');
  assertContains(file.nets, acked.nets, 'networks (after clean shutdown)');

  t.comment(
    `${ROUNDS} kills: ${stats.attempted} writes sent, ${stats.acked} acknowledged (all kept), ${stats.unanswered} cut off by the kill ` +
      `in ${stats.killedMidFlight} rounds; mean server start ${Math.round(stats.startMs / (ROUNDS + 1))} ms`,
  );
  // the kills must land while writes are in flight, or the test proves little
  assert.ok(stats.killedMidFlight >= ROUNDS / 2, `only ${stats.killedMidFlight} of ${ROUNDS} kills hit writes in flight`);
  assert.ok(stats.acked >= ROUNDS, `only ${stats.acked} writes were acknowledged in ${ROUNDS} rounds`);
});
