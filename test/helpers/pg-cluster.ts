// Throwaway PostgreSQL clusters for tests: `initdb` into a temp directory, `pg_ctl start` on a
// Unix socket in that directory (and, for lab tests, on a TCP address inside a namespace),
// stopped and removed in teardown. initdb refuses to run as root, so as root the cluster runs as
// the `postgres` user. Missing binaries skip the tests that need them locally, but fail them
// under CI=true (.ci/run installs the `postgresql` package).
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { appendFile, chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { onInterrupt } from './interrupt.ts';
import { readdirSync as readdir, writeFileSync } from 'node:fs';

const run = promisify(execFile);

/** Where Debian (or PG_BIN) keeps initdb and pg_ctl; undefined when PostgreSQL is not installed. */
export function pgBinDir(): string | undefined {
  if (process.env.PG_BIN && existsSync(join(process.env.PG_BIN, 'initdb'))) return process.env.PG_BIN;
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base).filter((v) => existsSync(join(base, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a));
  return versions[0] && join(base, versions[0], 'bin');
}

/** false when a cluster can be made here, else why not; throws under CI=true. */
export function pgSkip(): string | false {
  let reason: string | undefined;
  if (!pgBinDir()) reason = 'PostgreSQL binaries not found (apt-get install -y postgresql, or set PG_BIN)';
  else if (process.getuid?.() === 0 && !userExists('postgres')) reason = 'running as root without a `postgres` user to run the cluster as';
  if (!reason) return false;
  if (process.env.CI === 'true') throw new Error(`PostgreSQL tests cannot run: ${reason}`);
  return reason;
}

function userExists(name: string): boolean {
  try {
    return readFileText('/etc/passwd').split('\n').some((l) => l.startsWith(name + ':'));
  } catch {
    return false;
  }
}
import { readFileSync } from 'node:fs';
const readFileText = (p: string) => readFileSync(p, 'utf8');

export interface PgClusterOptions {
  /** A TCP address to listen on as well (e.g. a lab namespace's address); default: Unix socket only. */
  listen?: string;
  port?: number;
  /** Run the server inside this network namespace (it must exist). */
  netns?: string;
  /** fsync on (default off: test clusters need not survive a power cut, and run much faster). */
  fsync?: boolean;
  maxConnections?: number;
}

export interface PgCluster {
  dir: string;
  socketDir: string;
  port: number;
  /** A URL for `db` (default "postgres") over the Unix socket. */
  url(db?: string): string;
  /** A URL for `db` over TCP at the `listen` address. */
  tcpUrl(db?: string): string;
  /** Creates an empty database with a fresh name and returns its socket URL. */
  createDatabase(prefix?: string): Promise<string>;
  /** `pg_ctl stop -m immediate` (a crash), then the directory is removed. */
  destroy(): Promise<void>;
  /** Stops the server (fast shutdown), keeping its files; `start()` brings it back. */
  stop(): Promise<void>;
  start(): Promise<void>;
}

const live = new Set<PgCluster>();
process.on('exit', () => {
  // last resort (a test process dying without teardown): stop the servers, remove their files
  for (const c of live) {
    try {
      process.kill(pidOf(c.dir), 'SIGQUIT');
    } catch { /* not running */ }
    try {
      rmSync(c.dir, { recursive: true, force: true });
    } catch { /* best effort */ }
  }
});

function pidOf(dir: string): number {
  return Number(readFileText(join(dir, 'data', 'postmaster.pid')).split('\n')[0]);
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Stops and removes the clusters of test processes that died without their teardown (killed
 * with SIGKILL, say): each cluster directory names its owner's pid. */
async function sweepStaleClusters(bin: string): Promise<void> {
  for (const name of readdir(tmpdir()).filter((n) => n.startsWith('meshctl-pg-'))) {
    const dir = join(tmpdir(), name);
    let owner = 0;
    try {
      owner = Number(readFileText(join(dir, 'owner')).trim());
    } catch {
      continue; // no owner file: not made by this helper, or still being made
    }
    if (!owner || alive(owner)) continue;
    const stop = process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--', join(bin, 'pg_ctl')] : [join(bin, 'pg_ctl')];
    await run(stop[0]!, [...stop.slice(1), '-D', join(dir, 'data'), '-m', 'immediate', '-w', 'stop'], { timeout: 30_000 }).catch(() => {});
    await rm(dir, { recursive: true, force: true }).catch(() => {});
  }
}

/** Makes and starts a cluster. Call `destroy()` in teardown (an interrupted process destroys it
 * too, and a later start removes clusters whose process died without either). */
export async function startPgCluster(opts: PgClusterOptions = {}): Promise<PgCluster> {
  const bin = pgBinDir();
  if (!bin) throw new Error('PostgreSQL binaries not found');
  await sweepStaleClusters(bin);
  const asRoot = process.getuid?.() === 0;
  const dir = await mkdtemp(join(tmpdir(), 'meshctl-pg-'));
  writeFileSync(join(dir, 'owner'), `${process.pid}\n`);
  if (asRoot) await chown(dir, uidOf('postgres'), gidOf('postgres'));
  const data = join(dir, 'data');
  const port = opts.port ?? 5432;
  const as = (argv: string[]): [string, string[]] => {
    const wrapped = asRoot ? ['runuser', '-u', 'postgres', '--', ...argv] : argv;
    const inNs = opts.netns ? ['ip', 'netns', 'exec', opts.netns, ...wrapped] : wrapped;
    return [inNs[0]!, inNs.slice(1)];
  };
  const exec = async (argv: string[]) => {
    const [cmd, args] = as(argv);
    return run(cmd, args, { timeout: 60_000 });
  };
  const settings = [
    `-c listen_addresses='${opts.listen ?? ''}'`,
    `-c port=${port}`,
    `-c unix_socket_directories='${dir}'`,
    `-c fsync=${opts.fsync ? 'on' : 'off'}`,
    `-c max_connections=${opts.maxConnections ?? 300}`,
  ].join(' ');
  const cluster: PgCluster = {
    dir,
    socketDir: dir,
    port,
    url: (db = 'postgres') => `postgres://postgres@localhost:${port}/${db}?host=${encodeURIComponent(dir)}`,
    tcpUrl: (db = 'postgres') => `postgres://postgres@${opts.listen}:${port}/${db}`,
    createDatabase: async (prefix = 't') => {
      const name = `${prefix}_${randomBytes(5).toString('hex')}`;
      const c = new pg.Client({ connectionString: cluster.url() });
      await c.connect();
      try {
        await c.query(`CREATE DATABASE ${name}`);
      } finally {
        await c.end();
      }
      return cluster.url(name);
    },
    start: async () => {
      await exec([join(bin, 'pg_ctl'), '-D', data, '-o', settings, '-l', join(dir, 'log'), '-w', '-t', '60', 'start']);
    },
    stop: async () => {
      await exec([join(bin, 'pg_ctl'), '-D', data, '-m', 'fast', '-w', 'stop']);
    },
    destroy: async () => {
      live.delete(cluster);
      releaseInterrupt();
      await exec([join(bin, 'pg_ctl'), '-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
  };
  live.add(cluster);
  const releaseInterrupt = onInterrupt(() => cluster.destroy());
  try {
    await exec([join(bin, 'initdb'), '-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync', '--no-instructions']);
    if (opts.listen) {
      // TCP from the lab's other namespaces (the server listens on the lab address only)
      await appendFile(join(data, 'pg_hba.conf'), 'host all all 0.0.0.0/0 trust\n');
    }
    await cluster.start();
  } catch (err) {
    await cluster.destroy();
    throw err;
  }
  return cluster;
}

function uidOf(user: string): number {
  const line = readFileText('/etc/passwd').split('\n').find((l) => l.startsWith(user + ':'));
  return Number(line!.split(':')[2]);
}
function gidOf(user: string): number {
  const line = readFileText('/etc/passwd').split('\n').find((l) => l.startsWith(user + ':'));
  return Number(line!.split(':')[3]);
}
