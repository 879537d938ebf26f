// The store engines the store suite runs against: the embedded sql.js store on a temp data
// directory, and PostgreSQL on a throwaway cluster (one per test process, a fresh database per
// store). One suite, two backends: the same expectations hold for both.
import tap from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Store } from '../../src/controller/store/store.ts';
import { SqliteStore, type SqliteStoreOptions } from '../../src/controller/store/sqlite/index.ts';
import { PostgresStore, type PostgresStoreOptions } from '../../src/controller/store/postgres/index.ts';
import { pgSkip, startPgCluster, type PgCluster } from './pg-cluster.ts';

interface Teardown { teardown(fn: () => unknown): void }

/** Where one store's data lives; `open` may be called again after `close` (or, on PostgreSQL,
 * alongside: that is a second controller). */
export interface StoreHome {
  open(): Promise<Store>;
  /** The data directory (sqlite) or database URL (postgres). */
  where: string;
}

export interface Backend {
  name: 'sqlite' | 'postgres';
  /** false, or why this backend cannot run here (never under CI=true: pgSkip throws there). */
  skip: string | false;
  /** A new, empty home; everything it opens is closed, and it is removed, in `t`'s teardown. */
  home(t: Teardown, opts?: SqliteStoreOptions & PostgresStoreOptions): Promise<StoreHome>;
}

let cluster: Promise<PgCluster> | undefined;

/** The test process's cluster, started on first use and destroyed when the process's root
 * tap test ends. */
export function sharedCluster(): Promise<PgCluster> {
  if (!cluster) {
    cluster = startPgCluster();
    const c = cluster;
    tap.teardown(async () => (await c).destroy());
  }
  return cluster;
}

/** `open`, with every store it opened closed in teardown, then `after`. */
function tracked(t: Teardown, open: () => Promise<Store>, after?: () => Promise<unknown>): () => Promise<Store> {
  const opened: Store[] = [];
  t.teardown(async () => {
    for (const s of opened.reverse()) await s.close().catch(() => {});
    await after?.();
  });
  return async () => {
    const s = await open();
    opened.push(s);
    return s;
  };
}

export function storeBackends(): Backend[] {
  return [
    {
      name: 'sqlite',
      skip: false,
      async home(t, opts = {}) {
        const dir = await mkdtemp(join(tmpdir(), 'meshctl-store-'));
        return { where: dir, open: tracked(t, () => SqliteStore.open(dir, opts), () => rm(dir, { recursive: true, force: true })) };
      },
    },
    {
      name: 'postgres',
      skip: pgSkip(),
      async home(t, opts = {}) {
        const url = await (await sharedCluster()).createDatabase('store');
        return { where: url, open: tracked(t, () => PostgresStore.open(url, opts)) };
      },
    },
  ];
}
