// The PostgreSQL engine: a connection pool, numbered migrations taken under an advisory lock (so
// that several controllers starting at once migrate once), and transactions retried when
// PostgreSQL reports a serialization failure or deadlock. A write resolves after COMMIT, which
// with PostgreSQL's default synchronous_commit means it is durable in the WAL.
import pg from 'pg';
import { MeshError } from '../../../core/errors.ts';
import { MIGRATIONS } from './migrations.ts';

/** The query handle entity files take first, so that their queries compose in one transaction. */
export interface Q {
  all<T>(sql: string, params?: unknown[]): Promise<T[]>;
  get<T>(sql: string, params?: unknown[]): Promise<T | undefined>;
  run(sql: string, params?: unknown[]): Promise<number>; // rows changed
}

/** Arbitrary, fixed key of the advisory lock held while migrating ("meshctl" in ASCII). */
const MIGRATION_LOCK = 0x6d657368637466n;
/** SQLSTATEs after which the whole transaction is run again. */
const RETRYABLE = new Set(['40001', '40P01']);
const MAX_ATTEMPTS = 20;

export interface PgEngineOptions {
  /** Connections in the pool (default 10). */
  poolSize?: number;
}

const handle = (c: pg.PoolClient | pg.Client | pg.Pool): Q => ({
  all: async <T>(sql: string, params?: unknown[]) => (await c.query(sql, params)).rows as T[],
  get: async <T>(sql: string, params?: unknown[]) => (await c.query(sql, params)).rows[0] as T | undefined,
  run: async (sql: string, params?: unknown[]) => (await c.query(sql, params)).rowCount ?? 0,
});

/** A connection string with the password (if any) masked, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://…';
  }
}

/** Maps driver errors about reaching the database to STORE_UNAVAILABLE; everything else passes. */
export function connectError(err: unknown, url: string): unknown {
  const code = (err as { code?: string }).code;
  if (code && /^(ECONNREFUSED|ENOTFOUND|ETIMEDOUT|ECONNRESET|EHOSTUNREACH|ENOENT|57P0[1-3]|3D000|28P01|28000)$/.test(code)) {
    return new MeshError('STORE_UNAVAILABLE', `reaching PostgreSQL at ${redactUrl(url)}: ${(err as Error).message}`, {
      hint: 'Check that PostgreSQL runs, the database exists and the URL (user, host, database) is right',
      cause: err,
    });
  }
  return err;
}

export class PgEngine {
  readonly pool: pg.Pool;
  readonly url: string;
  private closed = false;
  /** Writes started and not yet finished: close() lets them finish, as the embedded store does. */
  private readonly inflight = new Set<Promise<unknown>>();

  private constructor(url: string, opts: PgEngineOptions) {
    this.url = url;
    this.pool = new pg.Pool({ connectionString: url, max: opts.poolSize ?? 10 });
    // An idle client whose connection drops emits 'error' on the pool; without a listener the
    // process would crash. The next query gets a fresh connection.
    this.pool.on('error', () => {});
  }

  /** Connects to `url` and migrates the database to the latest schema. */
  static async open(url: string, opts: PgEngineOptions = {}): Promise<PgEngine> {
    const engine = new PgEngine(url, opts);
    try {
      await engine.migrate();
    } catch (err) {
      await engine.pool.end().catch(() => {});
      throw connectError(err, url);
    }
    return engine;
  }

  /** The schema version of the database (0 for an empty one). */
  async schemaVersion(q: Q = handle(this.pool)): Promise<number> {
    const t = await q.get<{ t: string | null }>("SELECT to_regclass('schema_version')::text AS t");
    if (!t?.t) return 0;
    return (await q.get<{ v: number | null }>('SELECT max(version) AS v FROM schema_version'))?.v ?? 0;
  }

  /** Applies every migration newer than the database's schema, each in its own transaction,
   * while holding an advisory lock: a second controller starting at once waits, then finds
   * nothing left to do. */
  private async migrate(): Promise<void> {
    const client = await this.pool.connect();
    const q = handle(client);
    try {
      await q.run('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK.toString()]);
      try {
        await q.run('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
        const from = await this.schemaVersion(q);
        const latest = MIGRATIONS[MIGRATIONS.length - 1]!.version;
        if (from > latest) {
          throw new MeshError('INTERNAL', `database ${redactUrl(this.url)} has schema ${from}, newer than this meshctl knows (${latest})`, {
            hint: 'Run the newer meshctl that wrote it, or restore a backup',
          });
        }
        for (const m of MIGRATIONS) {
          if (m.version <= from) continue;
          await q.run('BEGIN');
          try {
            await client.query(m.sql);
            await q.run('INSERT INTO schema_version (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, new Date().toISOString()]);
            await q.run('COMMIT');
          } catch (err) {
            await q.run('ROLLBACK').catch(() => {});
            throw new MeshError('INTERNAL', `applying schema migration ${m.version} (${m.name}): ${(err as Error).message}`, { cause: err });
          }
        }
      } finally {
        await q.run('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK.toString()]).catch(() => {});
      }
    } finally {
      client.release();
    }
  }

  /** Runs `fn` outside a transaction (each statement sees the latest committed data). */
  read<T>(fn: (q: Q) => Promise<T>): Promise<T> {
    this.assertOpen();
    return fn(handle(this.pool));
  }

  /** Runs `fn` as one READ COMMITTED transaction and resolves after COMMIT. Writers that must
   * not interleave lock the same row first (the network's, see networks.ts). The whole
   * transaction is retried on a serialization failure or deadlock. */
  write<T>(fn: (q: Q) => Promise<T>): Promise<T> {
    this.assertOpen();
    const p = this.transact(fn);
    this.inflight.add(p);
    const done = () => this.inflight.delete(p);
    p.then(done, done);
    return p;
  }

  private async transact<T>(fn: (q: Q) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const client = await this.pool.connect().catch((err) => {
        throw connectError(err, this.url);
      });
      let broken = false;
      try {
        await client.query('BEGIN');
        const result = await fn(handle(client));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {
          broken = true;
        });
        const code = (err as { code?: string }).code;
        if (code && RETRYABLE.has(code) && attempt < MAX_ATTEMPTS) {
          await new Promise((r) => setTimeout(r, Math.random() * 5 * attempt));
          continue;
        }
        throw connectError(err, this.url);
      } finally {
        client.release(broken);
      }
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new MeshError('INTERNAL', 'the store is closed');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.inflight]);
    await this.pool.end();
  }
}
