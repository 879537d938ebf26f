// The sql.js engine: the whole database lives in memory and is persisted as one image.
// Writes run as synchronous transactions (so no two interleave), then wait for a flush that
// puts the image durably on disk. With group commit, every write that lands while a flush is
// running shares the next flush.
import { storeFlush, storeFlushGroup } from '../../metrics.ts';
import initSqlJs from 'sql.js';
import type { Database, SqlValue, Statement } from 'sql.js';
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { MeshError } from '../../../core/errors.ts';
import { loadSqlWasm } from './wasm.ts';
import { removeStaleTemps, writeFileDurably } from '../../../platform/durable-file.ts';
import { MIGRATIONS } from './migrations.ts';

export type Params = SqlValue[] | Record<string, SqlValue>;

/** The synchronous handle queries receive; they take it first so that they compose in a transaction. */
export interface Sql {
  all<T>(sql: string, params?: Params): T[];
  get<T>(sql: string, params?: Params): T | undefined;
  run(sql: string, params?: Params): number; // rows changed
}

export interface EngineOptions {
  /** Share one flush among concurrent writes (default true). */
  groupCommit?: boolean;
  /** Runs (in a transaction) after the database was opened and after memory was rolled back to
   * the file because a flush failed: the store moves its version counters past anything that may
   * have been read from memory, so that no version number is ever reused for other content. */
  onReload?: (sql: Sql) => void;
  /** Also run `onReload` at open (the last owner died without closing: memory it served may
   * never have reached the file). */
  reloadOnOpen?: boolean;
}

let sqlJs: Promise<initSqlJs.SqlJsStatic> | undefined;
const loadSqlJs = () => (sqlJs ??= loadSqlWasm().then((wasmBinary) => initSqlJs({ wasmBinary: wasmBinary as ArrayBuffer })));

export class SqliteEngine {
  private flushedSeq = 0;
  private writeSeq = 0;
  private flushing: Promise<void> | null = null;
  private serial: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly sql: Sql;
  private db: Database;
  /** The image last made durable: what memory goes back to when a flush fails. */
  private durable: Uint8Array | null = null;
  /** How many times memory was rolled back: a write made before a rollback is lost. */
  private reloads = 0;
  private onReload: ((sql: Sql) => void) | undefined;
  readonly path: string;
  private readonly groupCommit: boolean;

  private readonly SQL: initSqlJs.SqlJsStatic;
  /** Prepared statements by SQL text, kept until the next flush (applyPragmas frees them).
   * Preparing is a good part of a small query's cost (a join runs about a dozen). */
  private stmts = new Map<string, Statement>();
  /** Each prepared statement's column names (a statement's columns do not change). */
  private columns = new WeakMap<Statement, string[]>();

  private constructor(db: Database, path: string, groupCommit: boolean, SQL: initSqlJs.SqlJsStatic) {
    this.SQL = SQL;
    this.db = db;
    this.path = path;
    this.groupCommit = groupCommit;
    this.sql = {
      all: <T>(q: string, p?: Params) => {
        const st = this.statement(q);
        try {
          if (p) st.bind(p);
          // get() with the column names read once per statement: several times faster than
          // getAsObject() per row (each name is a string decoded from wasm memory).
          let cols = this.columns.get(st);
          if (!cols) this.columns.set(st, (cols = st.getColumnNames()));
          const rows: T[] = [];
          while (st.step()) {
            const v = st.get();
            const row: Record<string, unknown> = {};
            for (let i = 0; i < cols.length; i++) row[cols[i]!] = v[i];
            rows.push(row as T);
          }
          return rows;
        } finally {
          st.reset();
        }
      },
      get: <T>(q: string, p?: Params) => this.sql.all<T>(q, p)[0],
      run: (q: string, p?: Params) => {
        if (!p) {
          this.db.run(q); // may hold several statements
          return this.db.getRowsModified();
        }
        const st = this.statement(q);
        try {
          st.bind(p);
          st.step();
        } finally {
          st.reset();
        }
        return this.db.getRowsModified();
      },
    };
  }

  private statement(q: string): Statement {
    let st = this.stmts.get(q);
    if (!st) {
      st = this.db.prepare(q);
      // bounded: SQL texts are the code's own, but setNodeFields builds one per set of columns
      if (this.stmts.size >= 256) this.forgetStatements();
      this.stmts.set(q, st);
    }
    return st;
  }

  private forgetStatements(): void {
    for (const st of this.stmts.values()) st.free();
    this.stmts.clear();
  }

  /** Opens (or creates) the database at `path` and migrates it to the latest schema. Before a
   * migrated image replaces an existing file, that file is kept as `<path>.v<N>.bak` (N: its
   * schema version). */
  static async open(path: string, opts: EngineOptions = {}): Promise<SqliteEngine> {
    const SQL = await loadSqlJs();
    await removeStaleTemps(path);
    let db: Database;
    let original: Uint8Array | null = null;
    try {
      original = existsSync(path) ? await readFile(path) : null;
      // sql.js may reuse the buffer it is given: open a copy, keep the original for the backup.
      db = original ? new SQL.Database(Uint8Array.from(original)) : new SQL.Database();
    } catch (err) {
      throw new MeshError('INTERNAL', `reading database ${path}: ${(err as Error).message}`, { cause: err });
    }
    const engine = new SqliteEngine(db, path, opts.groupCommit ?? true, SQL);
    const from = engine.schemaVersion();
    let migrated: boolean;
    try {
      migrated = engine.migrate();
    } catch (err) {
      db.close();
      throw err;
    }
    engine.applyPragmas();
    if (migrated && original && from > 0) await writeFileDurably(`${path}.v${from}.bak`, original);
    engine.durable = original;
    engine.onReload = opts.onReload;
    const moved = opts.onReload !== undefined && opts.reloadOnOpen === true;
    if (moved) engine.mutate(opts.onReload!);
    if (migrated || !original || moved) await engine.flush();
    return engine;
  }

  private applyPragmas(): void {
    // export() may close and reopen the database (sql.js before 1.14 did), which resets pragmas
    // and would leave cached statements dangling: call after every export.
    this.forgetStatements();
    this.db.run('PRAGMA foreign_keys = ON');
    // The database file lives in sql.js's in-memory file system and dies with the process; what
    // is durable is the exported image (flushOnce). So SQLite's own rollback journal need not
    // be a file there, nor synced: in memory it still serves ROLLBACK, and a write transaction
    // no longer creates, writes and deletes a journal file (a third of a join's cost at 5,000 nodes).
    this.db.run('PRAGMA journal_mode = MEMORY');
    this.db.run('PRAGMA synchronous = OFF');
    // This connection is the file's only user (it lives in this process's memory). In the default
    // locking mode SQLite releases its lock after every statement and, taking it again, reads
    // pages anew through sql.js's file system: a point query by index cost 100-400 us at 5,000
    // nodes, 2-10 us holding the lock (about a third of a join's CPU).
    this.db.run('PRAGMA locking_mode = EXCLUSIVE');
  }

  /** The schema version stored in the file (0 for a new database). */
  schemaVersion(): number {
    const t = this.sql.get<{ n: number }>("SELECT count(*) AS n FROM sqlite_master WHERE type='table' AND name='schema_version'");
    if (!t || t.n === 0) return 0;
    return this.sql.get<{ v: number }>('SELECT max(version) AS v FROM schema_version')?.v ?? 0;
  }

  /** Applies every migration newer than the file's schema, each in its own transaction, with
   * foreign keys off: with them on, the usual SQLite table rebuild (create, copy, drop, rename)
   * would delete every row that references the dropped table through ON DELETE CASCADE. Each
   * step must leave no broken reference (PRAGMA foreign_key_check) or it is rolled back. */
  private migrate(): boolean {
    this.db.run('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
    const from = this.schemaVersion();
    const latest = MIGRATIONS[MIGRATIONS.length - 1]!.version;
    if (from > latest) {
      throw new MeshError('INTERNAL', `database ${this.path} has schema ${from}, newer than this meshctl knows (${latest})`, {
        hint: 'Run the newer meshctl that wrote it, or restore a backup',
      });
    }
    let applied = false;
    this.db.run('PRAGMA foreign_keys = OFF'); // a no-op inside a transaction: set it before BEGIN
    try {
      for (const m of MIGRATIONS) {
        if (m.version <= from) continue;
        this.db.run('BEGIN');
        try {
          this.db.exec(m.sql);
          const broken = this.sql.all<{ table: string; parent: string }>('PRAGMA foreign_key_check');
          if (broken.length) {
            const where = [...new Set(broken.map((b) => `${b.table} -> ${b.parent}`))].join(', ');
            throw new Error(`it leaves ${broken.length} broken reference(s): ${where}`);
          }
          this.db.run('INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)', [m.version, m.name, new Date().toISOString()]);
          this.db.run('COMMIT');
        } catch (err) {
          this.db.run('ROLLBACK');
          throw new MeshError('INTERNAL', `applying schema migration ${m.version} (${m.name}): ${(err as Error).message}`, {
            hint: 'The database file was left as it was; report this with the meshctl version',
            cause: err,
          });
        }
        applied = true;
      }
    } finally {
      this.applyPragmas();
    }
    return applied;
  }

  /** Grows with every committed transaction: a read made at the same generation is still current. */
  get generation(): number {
    return this.writeSeq;
  }

  /** Runs `fn` as one read; nothing is flushed. */
  read<T>(fn: (sql: Sql) => T): T {
    this.assertOpen();
    return fn(this.sql);
  }

  /** Runs `fn` as one transaction, then resolves once the change is durably on disk. */
  async write<T>(fn: (sql: Sql) => T): Promise<T> {
    const epoch = this.reloads;
    const result = this.mutate(fn);
    await this.commit(epoch);
    return result;
  }

  /** Runs `fn` as one transaction without waiting for durability (soft state). */
  mutate<T>(fn: (sql: Sql) => T): T {
    this.assertOpen();
    this.db.run('BEGIN IMMEDIATE');
    let result: T;
    try {
      result = fn(this.sql);
      this.db.run('COMMIT');
    } catch (err) {
      this.db.run('ROLLBACK');
      throw err;
    }
    this.writeSeq++;
    return result;
  }

  /** Waits until every write made so far is durable. Throws when a flush failed and memory was
   * rolled back past a write made in `epoch` (that write is not made: the error is the truth). */
  async commit(epoch = this.reloads): Promise<void> {
    const mine = this.writeSeq;
    const lost = () => new MeshError('INTERNAL', `writing the database ${this.path} failed; the change was not made`, { hint: 'See the controller log; check the disk' });
    if (!this.groupCommit) {
      // One flush per write, in order: the baseline group commit is measured against.
      const turn = this.serial.then(() => {
        if (this.reloads !== epoch) throw lost();
        return this.flushOnce(mine);
      });
      this.serial = turn.catch(() => {});
      return turn;
    }
    while (this.flushedSeq < mine) {
      try {
        if (!this.flushing) {
          // Start on the next turn, not now: the writers that a finished flush wakes all write in
          // this turn, and the first of them would otherwise start a flush holding only its own
          // write (groups of 1, 63, 1, 63... under a steady load of 64).
          this.flushing = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.flushOnce(this.writeSeq)).finally(() => {
            this.flushing = null;
          });
        }
        await this.flushing;
      } catch (err) {
        if (this.reloads !== epoch) throw err; // our write went with the rollback
      }
    }
    if (this.reloads !== epoch) throw lost();
  }

  /** Puts memory back to the last durable image (a flush failed: what memory holds beyond it
   * was never acknowledged and must not be written by a later flush). */
  private rollBack(): void {
    this.forgetStatements();
    this.db.close();
    this.db = this.durable ? new this.SQL.Database(Uint8Array.from(this.durable)) : new this.SQL.Database();
    if (!this.durable) this.migrate();
    this.applyPragmas();
    this.reloads++;
    this.writeSeq++;
    this.flushedSeq = this.writeSeq;
    if (this.onReload) this.mutate(this.onReload);
  }

  private async flushOnce(upTo: number): Promise<void> {
    const t0 = performance.now();
    const group = Math.max(1, upTo - this.flushedSeq);
    const image = this.db.export();
    this.applyPragmas();
    try {
      await writeFileDurably(this.path, image);
    } catch (err) {
      this.rollBack();
      throw new MeshError('INTERNAL', `writing the database ${this.path}: ${(err as Error).message}; the change was not made`, { hint: 'Check the disk (space, permissions) and the controller log', cause: err });
    }
    this.durable = image;
    if (upTo > this.flushedSeq) this.flushedSeq = upTo;
    storeFlush.observe((performance.now() - t0) / 1000);
    storeFlushGroup.observe(group);
  }

  /** Persists the current image (including soft state changed by `mutate`). */
  async flush(): Promise<void> {
    this.writeSeq++;
    await this.commit();
  }

  private assertOpen(): void {
    if (this.closed) throw new MeshError('INTERNAL', 'the store is closed');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    this.forgetStatements();
    this.db.close();
  }
}
