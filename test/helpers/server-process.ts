// Runs the real `meshctl server` (bin/run.js on this Node) as a child process on free loopback
// ports, for tests that kill it, restart it or look at its files. Every process started here is
// killed by pid when the test process exits, whatever happened.
import { spawn, type ChildProcess } from 'node:child_process';
import { onInterrupt } from './interrupt.ts';
import { createServer } from 'node:net';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BIN } from './cli.ts';
import { adminFetchFor } from './admin-fetch.ts';

export interface ServerProcess {
  pid: number;
  /** https:// URL of the admin API. */
  url: string;
  dataDir: string;
  token: string;
  proc: ChildProcess;
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** What the server wrote to stderr so far (its log goes to stdout and is discarded). */
  stderr(): string;
  /** SIGKILL, then wait for the exit. */
  kill9(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM (a clean shutdown), then wait for the exit. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of live) if (p.pid !== undefined) try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ }
});

// Ctrl-C of the test run: the servers go too (the 'exit' hook above does not run on a signal).
onInterrupt(() => killAllStarted());

/** Kills (SIGKILL, by pid) every server this process started that is still running. */
export async function killAllStarted(): Promise<void> {
  await Promise.all([...live].map(async (p) => {
    if (p.pid !== undefined && p.exitCode === null && p.signalCode === null) {
      try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ }
      await new Promise((r) => p.once('exit', r));
    }
    live.delete(p);
  }));
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

/** Spawns a server without waiting for it (for a start that is expected to fail). */
export function spawnServer(dataDir: string, ports: { api: number; grpc: number }, opts: { umask?: string } = {}): ChildProcess {
  // No relay: tests run side by side and its port 3478 is one port (the NAT e2e test runs one in its lab).
  const args = [BIN, 'server', '--data-dir', dataDir, '--api-addr', `127.0.0.1:${ports.api}`, '--grpc-addr', `127.0.0.1:${ports.grpc}`, '--public-host', '127.0.0.1', '--no-relay'];
  // with a umask, go through sh; `exec` keeps the pid that of node itself
  const proc = opts.umask === undefined
    ? spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] })
    : spawn('/bin/sh', ['-c', `umask ${opts.umask} && exec "$0" "$@"`, process.execPath, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  live.add(proc);
  proc.once('exit', () => live.delete(proc));
  return proc;
}

/** Starts `meshctl server` on `dataDir` and resolves once its admin API answers. */
export async function startServer(dataDir: string, opts: { umask?: string; timeoutMs?: number } = {}): Promise<ServerProcess> {
  const ports = { api: await freePort(), grpc: await freePort() };
  const proc = spawnServer(dataDir, ports, opts);
  let stderr = '';
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) resolve({ code: proc.exitCode, signal: proc.signalCode });
    else proc.once('exit', (code, signal) => resolve({ code, signal }));
  });
  let gone: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  void exited.then((e) => (gone = e));
  const url = `https://127.0.0.1:${ports.api}`;
  const adminFetch = adminFetchFor(dataDir);
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000); // a loaded 2-core machine starts a server slowly
  for (;;) {
    if (gone) throw new Error(`meshctl server exited (code ${gone.code}, signal ${gone.signal}) before answering:\n${stderr}`);
    if (Date.now() > deadline) {
      try { process.kill(proc.pid!, 'SIGKILL'); } catch { /* gone */ }
      throw new Error(`meshctl server did not answer within ${opts.timeoutMs ?? 60_000} ms:\n${stderr}`);
    }
    try {
      await adminFetch(url + '/api/v1/networks');
      break; // any answer (401 without a token) means it is serving
    } catch {
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  const token = (await readFile(join(dataDir, 'admin.token'), 'utf8')).trim();
  const signal = async (sig: NodeJS.Signals) => {
    if (!gone) {
      try { process.kill(proc.pid!, sig); } catch { /* already gone */ }
    }
    return exited;
  };
  return {
    pid: proc.pid!,
    url,
    dataDir,
    token,
    proc,
    exited,
    stderr: () => stderr,
    kill9: () => signal('SIGKILL'),
    stop: () => signal('SIGTERM'),
  };
}

/** An admin API call with the server's token. */
export function api(s: Pick<ServerProcess, 'url' | 'token' | 'dataDir'>, method: string, path: string, body?: unknown): Promise<Response> {
  return adminFetchFor(s.dataDir)(s.url + '/api/v1' + path, {
    method,
    headers: { authorization: `Bearer ${s.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}
