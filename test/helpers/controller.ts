// Test helpers: an in-process controller on loopback with a temp data dir.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { startController, type RunningController, type StartOptions } from '../../src/controller/server.ts';
import { adminFetchFor } from './admin-fetch.ts';

export interface TestController {
  ctl: RunningController;
  dataDir: string;
  apiUrl: string;
  token: string;
  /** fetch() for this controller's admin API (HTTPS, trusting its CA). */
  fetch: ReturnType<typeof adminFetchFor>;
  /** One admin API call with the admin token and a JSON body; its parsed answer, or throws naming the call and the answer. */
  admin<T>(method: string, path: string, body?: unknown): Promise<T>;
  stop(): Promise<void>;
}

/** `authFailuresPerMinute` defaults to a budget no test exhausts by accident (tests of the limit set it). */
export async function startTestController(opts: { grpc?: boolean; dataDir?: string; grpcPort?: number; apiPort?: number; store?: string; caDir?: string; publicHost?: string; authFailuresPerMinute?: number; relay?: boolean; events?: StartOptions['events'] } = {}): Promise<TestController> {
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'meshctl-test-')));
  const ctl = await startController(
    { dataDir, api: { host: '127.0.0.1', port: opts.apiPort ?? 0 }, grpc: opts.grpc ? { host: '127.0.0.1', port: opts.grpcPort ?? 0 } : null, publicHost: opts.publicHost ?? '127.0.0.1', relay: opts.relay ? { host: '127.0.0.1', port: 0 } : null, store: opts.store ?? 'sqlite', ...(opts.caDir ? { caDir: opts.caDir } : {}), configFile: null },
    pino({ level: 'silent' }),
    '0.0.0-test',
    { authFailuresPerMinute: opts.authFailuresPerMinute ?? 100_000, ...(opts.events ? { events: opts.events } : {}) },
  );
  const token = (await readFile(join(dataDir, 'admin.token'), 'utf8')).trim();
  const fetch = adminFetchFor(dataDir, opts.caDir);
  const apiUrl = ctl.apiUrl!;
  return {
    ctl,
    dataDir,
    apiUrl,
    token,
    fetch,
    admin: async <T>(method: string, path: string, body?: unknown): Promise<T> => {
      const res = await fetch(`${apiUrl}/api/v1${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
      const text = await res.text();
      if (!res.ok) throw new Error(`${method} ${path}: ${text}`);
      return (text ? JSON.parse(text) : undefined) as T;
    },
    stop: async () => {
      await ctl.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** One test controller (with gRPC) for a whole test file: started before its first test; after
 * its last, what `cleanup` was given is undone (last first, failures ignored), then the
 * controller stops. `tc` is the controller once the tests run. */
export function fileController(t: { before(fn: () => unknown): void; teardown(fn: () => unknown): void }) {
  const f = {
    tc: undefined as unknown as TestController,
    admin: <T>(method: string, path: string, body?: unknown) => f.tc.admin<T>(method, path, body),
    cleanup: (fn: () => Promise<unknown>) => void cleanups.push(fn),
    /** A temp directory named `prefix`…, removed at the end. */
    tempDir: async (prefix: string) => {
      const dir = await mkdtemp(join(tmpdir(), prefix));
      cleanups.push(() => rm(dir, { recursive: true, force: true }));
      return dir;
    },
  };
  const cleanups: (() => Promise<unknown>)[] = [];
  t.before(async () => {
    f.tc = await startTestController({ grpc: true });
  });
  t.teardown(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => {});
    await f.tc?.stop();
  });
  return f;
}
