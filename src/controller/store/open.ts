// Which engine a controller runs on: `--store sqlite` (the embedded default, in the data
// directory) or `--store postgres://…` (shared by several controllers).
import { MeshError } from '../../core/errors.ts';
import type { Store } from './store.ts';
import type { FeedLog } from './postgres/changes.ts';

/** Validates a --store / MESHCTL_STORE value: "sqlite" or a postgres:// URL. */
export function parseStoreSpec(spec: string): 'sqlite' | { postgres: string } {
  if (spec === 'sqlite') return 'sqlite';
  if (/^postgres(ql)?:\/\//.test(spec)) return { postgres: spec };
  throw new MeshError('CONFIG_INVALID', `unknown store "${spec.replace(/:[^:@/]*@/, ':***@')}"`, {
    hint: 'Use --store sqlite (the embedded default) or --store postgres://USER@HOST/DB',
  });
}

/** Opens the store `spec` names. The PostgreSQL engine loads only when asked for. */
export async function openStore(spec: string, dataDir: string, log?: FeedLog): Promise<Store> {
  const s = parseStoreSpec(spec);
  if (s === 'sqlite') {
    const { SqliteStore } = await import('./sqlite/index.ts');
    return SqliteStore.open(dataDir);
  }
  const { PostgresStore } = await import('./postgres/index.ts');
  return PostgresStore.open(s.postgres, log ? { log } : {});
}
