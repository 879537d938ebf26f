// Helpers shared by the e2e tests that drive real meshctl processes on lab hosts (lab.ts):
// running meshctl and reading its JSON, starting the controller, WireGuard and ping checks, and
// steps that are skipped, not failed again, when a step they build on failed.
import type { Test } from 'tap';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { ExecaRunner, type RunResult } from '../../src/platform/runner.ts';
import { hostWrapperIn, type Lab, type LabProcess } from './lab.ts';

export const BIN = fileURLToPath(new URL('../../bin/run.js', import.meta.url));
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The hosts inherit this process's environment: a developer's MESHCTL_* must not steer them. */
export function dropMeshctlEnv(): void {
  for (const k of Object.keys(process.env)) if (k.startsWith('MESHCTL_')) delete process.env[k];
}

export interface JoinOut { network: string; name: string; address: string; interface: string; status: string; peers: unknown }
export interface CheckinOut { network: string; version: number; changed: boolean; peers: unknown }
export interface PeerStatus { name: string; address: string; endpoint: string | null; latestHandshake: string | null; rxBytes: number; txBytes: number }
export interface NetStatus { network: string; interface: string; address: string; peers: PeerStatus[] }
export interface NodeOut { id: string; name: string; network: string; address: string; publicKey: string; endpoint: string | null; listenPort: number; status: string; lastCheckin: string | null }
export interface WgPeer { publicKey: string; endpoint: string; allowedIps: string; latestHandshake: number }

/** The address without a prefix length ("10.10.0.1/24" and "10.10.0.1" both give "10.10.0.1"). */
export const bare = (a: string) => a.split('/')[0]!;
/** `peers` is a count in the contract's join/checkin results; an array is counted too. */
export const count = (p: unknown) => (Array.isArray(p) ? p.length : p);
/** Long join tokens make failure messages unreadable: keep their first characters. */
export const shown = (args: string[]) => args.map((a) => (a.startsWith('mc1.') ? `${a.slice(0, 14)}…` : a)).join(' ');
/** Seconds with one decimal, for diagnostics. */
/** The last `n` characters of a process's output, for a failure message. */
export const tail = (s: string, n = 3000) => (s.length > n ? `…${s.slice(-n)}` : s || '(no output)');

export const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** Waits until each agent logs that it follows the controller (agents on a loaded machine take a
 * while to start); fails at once when one exits. */
export async function agentsReachController(agents: Record<string, LabProcess>, ms = 90_000): Promise<void> {
  for (const [h, a] of Object.entries(agents)) {
    await until(`${h}'s agent to reach the controller`, ms, async () => {
      if (a.child.exitCode !== null) throw new Error(`${h}'s agent exited:\n${a.output()}`);
      return /(watching the controller|in contact with the controller)$/m.test(a.output()) ? true : undefined;
    });
  }
}

/** Polls `fn` every 50 ms until it returns a value other than undefined, or fails after `ms` naming `what`. */
/** Polls `get` until `ok` holds of its value (at most `ms`) and returns the last value: for state
 * that is elsewhere for a moment now and then, such as a relayed pair's endpoints (a pair with
 * direct candidates spends 3 s of each 60 s trying them). */
export async function settle<T>(get: () => Promise<T>, ok: (v: T) => boolean, ms = 8000): Promise<T> {
  const end = performance.now() + ms;
  let v = await get();
  while (!ok(v) && performance.now() < end) {
    await sleep(250);
    v = await get();
  }
  return v;
}

export async function until<T>(what: string, ms: number, fn: () => Promise<T | undefined>): Promise<T> {
  const end = performance.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (performance.now() >= end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(50);
  }
}

/** `until` for a condition: polls `cond` until it holds, or fails once `ms` have passed since
 * `since` (default: now), naming `what`. Resolves with the ms from `since`. */
export async function untilTrue(what: string, ms: number, cond: () => Promise<boolean>, since = performance.now()): Promise<number> {
  await until(what, Math.max(0, ms - (performance.now() - since)), async () => ((await cond()) ? true : undefined));
  return performance.now() - since;
}

/** meshctl on lab hosts: `dataDir` is the controller's data directory on host `ctl`. */
export function meshTools(lab: Lab, dataDir: string) {
  const etc = (h: string) => `${lab.dir(h)}/etc`;
  /** Runs meshctl on `host`; never throws on a non-zero exit. */
  const mc = (host: string, args: string[]): Promise<RunResult> => lab.run(host, [process.execPath, BIN, ...args], { allowFail: true });
  const explain = (host: string, args: string[], r: RunResult) =>
    `${host}$ meshctl ${shown(args)}\n  exit ${r.exitCode}\n  stdout: ${r.stdout || '(empty)'}\n  stderr: ${r.stderr || '(empty)'}`;
  /** Runs meshctl on `host`, asserts exit 0 and returns its stdout parsed as JSON. */
  const ok = async <T>(host: string, args: string[]): Promise<T> => {
    const r = await mc(host, args);
    assert.equal(r.exitCode, 0, `expected success:\n${explain(host, args, r)}`);
    try {
      return JSON.parse(r.stdout) as T;
    } catch {
      assert.fail(`stdout is not JSON:\n${explain(host, args, r)}`);
    }
  };
  const admin = <T>(args: string[]) => ok<T>('ctl', [...args, '--data-dir', dataDir, '--json']);
  const join = (host: string, token: string, name = host, dir = etc(host)) =>
    ok<JoinOut>(host, ['join', '-t', token, '--name', name, '--config-dir', dir, '--daemon', 'off', '--json']);
  const status = (host: string) => ok<NetStatus[]>(host, ['status', '--config-dir', etc(host), '--json']);
  const entry = <T extends { network: string }>(list: T[], network: string, what: string): T => {
    assert.ok(Array.isArray(list), `${what}: expected a JSON array, got ${JSON.stringify(list)}`);
    const e = list.find((x) => x.network === network);
    assert.ok(e, `${what}: no entry for network ${network} in ${JSON.stringify(list)}`);
    return e;
  };
  const nodesList = async (network: string) => {
    const list = await admin<NodeOut[]>(['nodes', 'list', network]);
    return new Map(list.map((n) => [n.name, n]));
  };

  /** Starts `meshctl server` on ctl with `dataDir` (and `extra` flags), and waits until both the admin API and gRPC answer. */
  const startController = async (timeoutMs = 60_000, extra: string[] = []): Promise<LabProcess> => {
    const server = lab.spawn('ctl', [process.execPath, BIN, 'server', '--data-dir', dataDir, '--api-addr', '0.0.0.0:8081', '--grpc-addr', '0.0.0.0:50051', '--public-host', lab.ip('ctl'), ...extra]);
    const end = Date.now() + timeoutMs;
    for (;;) {
      assert.equal(server.child.exitCode, null, `meshctl server exited with code ${server.child.exitCode}:\n${server.output()}`);
      const grpc = (await lab.run('ctl', ['ss', '-Hltn', 'sport = :50051'])).stdout.trim() !== '';
      const up = grpc && (await mc('ctl', ['network', 'list', '--data-dir', dataDir, '--json'])).exitCode === 0;
      if (up && grpc) return server;
      assert.ok(Date.now() < end, `meshctl server did not serve both APIs within ${timeoutMs} ms (gRPC port: ${grpc}, admin API: ${up}):\n${server.output()}`);
      await sleep(100);
    }
  };

  /** Starts `meshctl agent` on `host` with its config directory (and `extra` flags). */
  const spawnAgent = (host: string, extra: string[] = []): LabProcess => lab.spawn(host, [process.execPath, BIN, 'agent', '--config-dir', etc(host), ...extra]);

  /** The peers in `wg show IF dump` on `host`. */
  const wgPeers = async (host: string, iface: string): Promise<WgPeer[]> => {
    const r = await lab.run(host, ['wg', 'show', iface, 'dump']);
    return r.stdout.split('\n').slice(1).filter(Boolean).map((l) => {
      const f = l.split('\t');
      return { publicKey: f[0]!, endpoint: f[2]!, allowedIps: f[3]!, latestHandshake: Number(f[4]) };
    });
  };
  /** Like lab.run (never throws on a non-zero exit), for commands that may outlast lab.run's 30 s limit. */
  const runLong = (host: string, argv: string[], timeoutMs: number): Promise<RunResult> =>
    new ExecaRunner({ prefix: hostWrapperIn(lab.ns(host), lab.dir(host)), timeoutMs }).run(argv, { allowFail: true });
  const linkExists = async (host: string, iface: string) => (await lab.run(host, ['ip', 'link', 'show', iface], { allowFail: true })).exitCode === 0;

  /**
   * Pings from `from` until one reply (10 probes a second, so the time it returns is when the path
   * started to work, to ~0.1 s) or `ms` pass. Resolves with the milliseconds from `since` to the
   * reply; throws naming the pair.
   */
  const pingUntil = async (from: string, to: string, addr: string, ms = 5000, since = performance.now()): Promise<number> => {
    const end = performance.now() + ms;
    let r: RunResult;
    do {
      const left = Math.max(1, Math.ceil((end - performance.now()) / 1000));
      const a0 = performance.now();
      r = await lab.run(from, ['ping', '-n', '-c1', '-i0.1', `-w${Math.min(left, 2)}`, '-W1', addr], { allowFail: true });
      if (r.exitCode === 0) return performance.now() - since;
      if (performance.now() - a0 < 100) await sleep(50); // no route yet: ping fails at once
    } while (performance.now() < end);
    throw new Error(`${from} cannot ping ${to} (${addr}) within ${ms} ms: ${(r.stdout + r.stderr).trim().split('\n').slice(-2).join(' / ')}`);
  };
  /** Every host pings every other over `addrs`, in parallel; fails listing every broken pair. Resolves with each pair's time. */
  const meshPings = async (hosts: string[], addrs: Record<string, string>, ms = 5000, since = performance.now()) => {
    const pairs = hosts.flatMap((a) => hosts.filter((b) => b !== a).map((b) => [a, b] as const));
    const rs = await Promise.allSettled(pairs.map(([a, b]) => pingUntil(a, b, addrs[b]!, ms, since)));
    const bad = rs.flatMap((r) => (r.status === 'rejected' ? [String((r.reason as Error).message)] : []));
    assert.equal(bad.length, 0, `${bad.length} of ${pairs.length} pings failed:\n  ${bad.join('\n  ')}`);
    return new Map(pairs.map(([a, b], i) => [`${a}->${b}`, (rs[i] as PromiseFulfilledResult<number>).value]));
  };

  return { etc, mc, explain, ok, admin, join, status, entry, nodesList, startController, spawnAgent, wgPeers, runLong, linkExists, pingUntil, meshPings };
}

/**
 * Named steps of one test: a step whose prerequisites failed is skipped, naming them. `onFail`
 * adds diagnostics (process output) to a failing step.
 */
export function stepper(t: Test, onFail: (st: Test) => void) {
  const failed = new Set<string>();
  return async (id: string, name: string, needs: string[], fn: (st: Test) => Promise<void>) => {
    const blocked = needs.filter((n) => failed.has(n));
    if (blocked.length) failed.add(id);
    await t.test(`${id}. ${name}`, { skip: blocked.length ? `needs step ${blocked.join(', ')}, which failed` : false }, async (st) => {
      const s0 = performance.now();
      try {
        await fn(st);
      } catch (e) {
        failed.add(id);
        onFail(st);
        throw e;
      } finally {
        st.comment(`step ${id}: ${secs(performance.now() - s0)}`);
      }
    });
  };
}
