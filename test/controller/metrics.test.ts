// Issue 8 item 10: a real `meshctl server` serves /metrics, /healthz and /readyz on its
// --metrics-addr without authentication, and /metrics on the API port only with the admin token.
// After a join, failed joins up to the rate limit, a check-in, a Watch stream and a pushed
// change, `curl` of /metrics returns every family the issue names, and a Prometheus text parser
// (a kept library) accepts it. The log records admin actions, failed joins and rate-limit hits,
// without secrets.
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join as pathJoin } from 'node:path';
import { fileURLToPath } from 'node:url';
import parsePrometheus, { type Family } from 'parse-prometheus-text-format';
import { freePort } from '../helpers/server-process.ts';
import { onInterrupt } from '../helpers/interrupt.ts';
import { multiHost } from '../helpers/host-sim.ts';
import { ExecaRunner } from '../../src/platform/runner.ts';
import { join, checkIn } from '../../src/agent/node.ts';
import { loadState } from '../../src/agent/state.ts';
import { NodeClient } from '../../src/agent/client.ts';
import { decodeJoinToken, encodeJoinToken } from '../../src/core/join-token.ts';

const BIN = fileURLToPath(new URL('../../bin/run.js', import.meta.url));
t.setTimeout(180_000);

const curl = async (url: string, headers: string[] = []) => {
  const r = await new ExecaRunner({ timeoutMs: 20_000 }).run(['curl', '-sS', '-m', '15', '-w', '\n%{http_code}', ...headers.flatMap((h) => ['-H', h]), url]);
  const i = r.stdout.lastIndexOf('\n');
  return { status: Number(r.stdout.slice(i + 1)), body: r.stdout.slice(0, i) };
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test('the registry is shared: a family declared twice is one family', async (t) => {
  const { counter, registry } = await import('../../src/controller/metrics.ts');
  const a = counter({ name: 'meshctl_test_relay_packets_total', help: 'x', labelNames: ['dir'] as const });
  const b = counter({ name: 'meshctl_test_relay_packets_total', help: 'x', labelNames: ['dir'] as const });
  t.equal(a, b);
  a.inc({ dir: 'in' }, 2);
  t.match(await registry.metrics(), /meshctl_test_relay_packets_total\{dir="in"\} 2/);
});

t.test('metrics, health and structured logs of a real controller', async (t) => {
  const dir = await mkdtemp(pathJoin(tmpdir(), 'meshctl-metrics-'));
  const agentDir = await mkdtemp(pathJoin(tmpdir(), 'meshctl-metrics-agent-'));
  const [api, grpc, metrics] = [await freePort(), await freePort(), await freePort()];
  // Plain HTTP on loopback (--api-insecure): this test is about metrics, and curls the API port.
  const child = spawn(process.execPath, [BIN, 'server', '--data-dir', dir, '--api-addr', `127.0.0.1:${api}`, '--grpc-addr', `127.0.0.1:${grpc}`, '--public-host', '127.0.0.1', '--metrics-addr', `127.0.0.1:${metrics}`, '--api-insecure'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (log += d));
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
  };
  const release = onInterrupt(kill);
  t.teardown(async () => {
    release();
    await kill();
    await rm(dir, { recursive: true, force: true });
    await rm(agentDir, { recursive: true, force: true });
  });
  const M = `http://127.0.0.1:${metrics}`;
  const end = Date.now() + 60_000;
  while ((await curl(`${M}/readyz`).catch(() => ({ status: 0 }))).status !== 200) {
    if (child.exitCode !== null) throw new Error(`the server exited (${child.exitCode}):\n${log}`);
    if (Date.now() > end) throw new Error(`not ready within 60 s:\n${log}`);
    await sleep(200);
  }
  t.equal((await curl(`${M}/healthz`)).status, 200, '/healthz answers');
  const adminToken = (await readFile(pathJoin(dir, 'admin.token'), 'utf8')).trim();
  const A = `http://127.0.0.1:${api}/api/v1`;
  const admin = async <T>(method: string, path: string, body?: unknown) => {
    const res = await fetch(A + path, { method, headers: { authorization: `Bearer ${adminToken}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };
  await admin('POST', '/networks', { name: 'office', cidr: '10.10.0.0/24' });
  const { token } = await admin<{ token: string }>('POST', '/networks/office/keys', { uses: 5 });

  // A join, a check-in, a Watch stream, a change pushed to it.
  const env = { configDir: agentDir, runner: multiHost().runner };
  await join(env, { token, name: 'n1' });
  await checkIn(env, 'office');
  const st = await loadState(agentDir, 'office');
  const client = new NodeClient(st.server, st.caPem, st.credential);
  t.teardown(() => client.close());
  let events = 0;
  const cancel = client.watch(st.view!.version, () => void events++, () => {});
  t.teardown(() => cancel());
  await sleep(500);
  await admin('PATCH', '/networks/office', { keepalive: 25 });
  for (let i = 0; i < 100 && events === 0; i++) await sleep(50);
  t.ok(events > 0, 'the change reached the stream');

  // Failed joins (a wrong secret) until the rate limit answers.
  const bad = encodeJoinToken({ ...decodeJoinToken(token), secret: 'x'.repeat(43) });
  let limited = false;
  for (let i = 0; i < 12 && !limited; i++) {
    const e = await join({ configDir: await mkdtemp(pathJoin(agentDir, 'bad-')), runner: multiHost().runner }, { token: bad, name: `bad${i}` }).then(() => null, (err: { code?: string }) => err);
    limited = e?.code === 'RATE_LIMITED';
  }
  t.ok(limited, 'the rate limit answered');

  // curl /metrics on the metrics address: every family, parsed as Prometheus would.
  const r = await curl(`${M}/metrics`);
  t.equal(r.status, 200);
  let fams: Family[] = [];
  t.doesNotThrow(() => (fams = parsePrometheus(r.body)), 'the text parses');
  const fam = (name: string) => fams.find((f) => f.name === name);
  const value = (name: string, labels: Record<string, string> = {}) =>
    fam(name)?.metrics.filter((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v)).reduce((s, m) => s + Number(m.value ?? m.count ?? 0), 0) ?? NaN;
  const want: [string, Family['type']][] = [
    ['meshctl_nodes', 'GAUGE'], ['meshctl_watch_streams', 'GAUGE'], ['meshctl_checkins_total', 'COUNTER'], ['meshctl_joins_total', 'COUNTER'],
    ['meshctl_join_failures_total', 'COUNTER'], ['meshctl_rate_limited_total', 'COUNTER'], ['meshctl_push_latency_seconds', 'HISTOGRAM'],
    ['meshctl_store_flush_seconds', 'HISTOGRAM'], ['meshctl_store_flush_group_size', 'HISTOGRAM'],
  ];
  for (const [name, type] of want) t.equal(fam(name)?.type, type, `${name} is a ${type.toLowerCase()}`);
  t.equal(value('meshctl_nodes', { network: 'office' }), 1, 'one node in office');
  t.equal(value('meshctl_watch_streams'), 1, 'one Watch stream open');
  t.ok(value('meshctl_checkins_total', { network: 'office' }) >= 1, 'check-ins counted');
  t.equal(value('meshctl_joins_total', { network: 'office' }), 1, 'one join');
  t.ok(value('meshctl_join_failures_total', { code: 'KEY_INVALID' }) >= 10, 'failed joins counted by code');
  t.ok(value('meshctl_rate_limited_total', { what: 'join' }) >= 1, 'rate-limit hits counted');
  t.ok(value('meshctl_push_latency_seconds') >= 1, 'push latency observed');
  t.ok(value('meshctl_store_flush_seconds') >= 1, 'flushes timed');
  t.ok(value('meshctl_store_flush_group_size') >= 1, 'flush group sizes observed');
  // Before each node API connection, a trim of the C heap (controller/malloc-trim.ts): node:ffi
  // and glibc's malloc_trim in the real server, at least the join's and the agent's connections.
  t.ok(value('meshctl_malloc_trims_total', { result: 'trimmed' }) >= 1, 'the C heap was trimmed before a connection');
  t.ok(value('meshctl_malloc_trims_total') >= 2, 'every node API connection counted, trimmed or skipped');
  t.ok(value('meshctl_malloc_trim_seconds_total') > 0, 'the time trimming took');

  // The API port: the same text, only with the admin token.
  t.equal((await curl(`http://127.0.0.1:${api}/metrics`)).status, 401, '/metrics on the API port needs the token');
  const authed = await curl(`http://127.0.0.1:${api}/metrics`, [`Authorization: Bearer ${adminToken}`]);
  t.equal(authed.status, 200);
  t.ok(parsePrometheus(authed.body).some((f) => f.name === 'meshctl_joins_total'));

  // Logs: admin actions, failed joins, rate-limit hits; no secret anywhere.
  const lines = log.split('\n').filter(Boolean).map((l) => { try { return JSON.parse(l) as Record<string, unknown>; } catch { return {}; } });
  t.ok(lines.some((l) => l.msg === 'admin action' && l.method === 'PATCH' && l.route === '/api/v1/networks/:network' && (l.params as { network?: string })?.network === 'office' && typeof l.actor === 'string'), 'the network update is logged with its actor');
  t.ok(lines.some((l) => l.msg === 'join refused' && l.code === 'KEY_INVALID' && l.network === 'office' && l.source === '127.0.0.1'), 'failed joins are logged');
  t.ok(lines.some((l) => typeof l.msg === 'string' && l.msg.startsWith('join refused: rate limited')), 'rate-limit hits are logged');
  const secret = decodeJoinToken(token).secret;
  t.notOk(log.includes(secret) || log.includes('x'.repeat(43)) || log.includes(adminToken) || log.includes(st.credential.split('.')[1]!), 'no secret is in the log');
});
