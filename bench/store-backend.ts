// The store the convergence benchmark's controllers run on: `--store sqlite` (one controller on
// its embedded store) or `--store postgres` (a throwaway PostgreSQL cluster, as the tests make
// one, and two controllers sharing it and one CA; the simulated agents are spread over both, and
// admin changes are made on the first, so half the agents see every change cross controllers).
import { join } from 'node:path';
import { startPgCluster, type PgCluster } from '../test/helpers/pg-cluster.ts';

export interface StoreBackend {
  /** How many controllers to start. */
  controllers: number;
  /** Extra `meshctl server` flags for every controller. */
  args: string[];
  close(): Promise<void>;
}

export async function storeBackend(kind: string, root: string): Promise<StoreBackend> {
  if (kind === 'sqlite') return { controllers: 1, args: [], close: async () => {} };
  if (kind !== 'postgres') throw new Error(`--store must be sqlite or postgres, not "${kind}"`);
  // fsync on: the figures are for a durable store
  const cluster: PgCluster = await startPgCluster({ fsync: true });
  try {
    const url = await cluster.createDatabase('bench');
    return { controllers: 2, args: ['--store', url, '--ca-dir', join(root, 'ca')], close: () => cluster.destroy() };
  } catch (err) {
    await cluster.destroy();
    throw err;
  }
}
