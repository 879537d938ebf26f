import * as Flags from '@oclif/core/flags';
import { MeshCommand } from '../../cli/base.ts';
import type { MigrateResult } from '../../controller/store/migrate.ts';

export default class ServerMigrateStore extends MeshCommand {
  static override summary = 'Copy an embedded store into an empty PostgreSQL database, to run several controllers on it.';
  static override description = 'Stop the server on the data directory first. Nodes keep their credentials and network versions; '
    + 'start the controllers with --store pointing at the database and --ca-dir at a copy of <data-dir>/tls, so that nodes trust them.';
  static override examples = ['<%= config.bin %> server migrate-store --from /var/lib/meshctl --to postgres://meshctl@db.internal/meshctl'];
  static override flags = {
    from: Flags.string({ required: true, description: 'data directory of the embedded store (its server stopped)' }),
    to: Flags.string({ required: true, description: 'postgres://USER@HOST/DB of an empty database' }),
  };

  async run(): Promise<MigrateResult> {
    const { flags } = await this.parse(ServerMigrateStore);
    const { parseStoreSpec } = await import('../../controller/store/open.ts');
    const { migrateStore } = await import('../../controller/store/migrate.ts');
    const { MeshError } = await import('../../core/errors.ts');
    if (parseStoreSpec(flags.to) === 'sqlite') throw new MeshError('USAGE', '--to must be a postgres:// URL', { hint: 'For example: --to postgres://meshctl@db.internal/meshctl' });
    const r = await migrateStore(flags.from, flags.to);
    const total = Object.values(r.tables).reduce((a, b) => a + b, 0);
    this.out(`Copied ${total} rows (${Object.entries(r.tables).map(([t, n]) => `${t} ${n}`).join(', ')}) from ${r.from} to ${r.to}. `
      + `Next: meshctl server --store ${r.to} --ca-dir <a copy of ${r.from}/tls>`);
    return r;
  }
}
