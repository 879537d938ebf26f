// `meshctl server migrate-store`: copies an embedded store (a data directory) into an empty
// PostgreSQL database, so that a site can start on one controller and grow to several. Every
// table the two engines share is copied row for row: network versions, key uses, node
// credential hashes, admin token hashes and the audit log stay as they were, so nodes keep
// working without joining again. The copy is one transaction: all of it or nothing.
import { MeshError } from '../../core/errors.ts';
import { SqliteStore } from './sqlite/index.ts';
import { PgEngine, redactUrl, type Q } from './postgres/engine.ts';

/** Tables that belong to one engine's machinery, not to the mesh's data. */
const NOT_COPIED = new Set(['schema_version', 'changes', 'sqlite_sequence']);
const BATCH = 500;

export interface MigrateResult {
  from: string;
  to: string;
  schema: number;
  /** Rows copied per table. */
  tables: Record<string, number>;
}

interface PgColumn { table_name: string; column_name: string; data_type: string; column_default: string | null }

/** Orders tables so that each comes after the tables its foreign keys point at. */
async function copyOrder(q: Q, tables: string[]): Promise<string[]> {
  const fks = await q.all<{ child: string; parent: string }>(
    `SELECT c.conrelid::regclass::text AS child, c.confrelid::regclass::text AS parent FROM pg_constraint c
     WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace`,
  );
  const out: string[] = [];
  const visit = (t: string, path: Set<string>) => {
    if (out.includes(t) || path.has(t)) return;
    path.add(t);
    for (const f of fks) if (f.child === t && f.parent !== t && tables.includes(f.parent)) visit(f.parent, path);
    out.push(t);
  };
  for (const t of [...tables].sort()) visit(t, new Set());
  return out;
}

/** Copies the store in `dataDir` into the empty database at `url`. Refuses a target that holds
 * any data, and a source a running server holds (the data directory's lock). */
export async function migrateStore(dataDir: string, url: string): Promise<MigrateResult> {
  const source = await SqliteStore.open(dataDir);
  try {
    const target = await PgEngine.open(url);
    try {
      const srcSchema = source.engine.schemaVersion();
      const dstSchema = await target.schemaVersion();
      if (srcSchema !== dstSchema) {
        throw new MeshError('INTERNAL', `the embedded store is at schema ${srcSchema} but PostgreSQL at ${dstSchema}`, { hint: 'Both engines of this meshctl must be at the same schema; run the same meshctl version for both' });
      }
      const cols = await target.read((q) => q.all<PgColumn>(
        "SELECT table_name, column_name, data_type, column_default FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, ordinal_position",
      ));
      const pgTables = [...new Set(cols.map((c) => c.table_name))].filter((t) => !NOT_COPIED.has(t));
      const srcTables = new Set(source.engine.read((s) => s.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")).map((r) => r.name));
      const missing = [...srcTables].filter((t) => !NOT_COPIED.has(t) && !pgTables.includes(t));
      if (missing.length) throw new MeshError('INTERNAL', `PostgreSQL has no table for ${missing.join(', ')}`, { hint: 'This meshctl\'s two engines disagree: report it' });

      const tables: Record<string, number> = {};
      await target.write(async (q) => {
        for (const t of pgTables) {
          const n = await q.get<{ n: string }>(`SELECT count(*) AS n FROM ${t}`);
          if (Number(n!.n) > 0) {
            throw new MeshError('ALREADY_EXISTS', `the target database ${redactUrl(url)} is not empty (table ${t} has rows)`, {
              hint: 'migrate-store copies into an empty database only: create a new one (createdb) and point --to at it',
            });
          }
        }
        for (const t of await copyOrder(q, pgTables.filter((x) => srcTables.has(x)))) {
          const tcols = cols.filter((c) => c.table_name === t);
          const srcCols = new Set(source.engine.read((s) => s.all<{ name: string }>(`SELECT name FROM pragma_table_info('${t}')`)).map((r) => r.name));
          const use = tcols.filter((c) => srcCols.has(c.column_name));
          const rows = source.engine.read((s) => s.all<Record<string, unknown>>(`SELECT ${use.map((c) => c.column_name).join(', ')} FROM ${t} ORDER BY rowid`));
          for (let i = 0; i < rows.length; i += BATCH) {
            const chunk = rows.slice(i, i + BATCH);
            const params: unknown[] = [];
            const values = chunk.map((r) => '(' + use.map((c) => {
              const v = r[c.column_name];
              params.push(c.data_type === 'boolean' && v !== null && v !== undefined ? v === 1 || v === true : v);
              return `$${params.length}`;
            }).join(', ') + ')');
            await q.run(`INSERT INTO ${t} (${use.map((c) => c.column_name).join(', ')}) VALUES ${values.join(', ')}`, params);
          }
          // a serial column copied as is: its sequence continues after the copied ids
          for (const c of use.filter((c) => c.column_default?.startsWith('nextval('))) {
            await q.run(`SELECT setval(pg_get_serial_sequence('${t}', '${c.column_name}'), GREATEST((SELECT max(${c.column_name}) FROM ${t}), 1))`);
          }
          tables[t] = rows.length;
        }
      });
      return { from: dataDir, to: redactUrl(url), schema: srcSchema, tables };
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}
