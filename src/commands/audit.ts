import * as Flags from '@oclif/core/flags';
import { MeshCommand } from '../cli/base.ts';
import { adminFlags, clientFrom } from '../cli/admin-flags.ts';
import { adminApi } from '../cli/admin-api.ts';
import { table } from '../cli/table.ts';
import type { AuditEntry } from '../core/types.ts';

export default class Audit extends MeshCommand {
  static override summary = 'Show the audit log: who changed what, newest first.';
  static override examples = ['meshctl audit --since 24h', 'meshctl audit --network office --since 2026-11-01 --json'];
  static override flags = {
    ...adminFlags,
    since: Flags.string({ description: 'only entries since a duration ago (30m, 24h, 7d) or an ISO 8601 time' }),
    network: Flags.string({ char: 'n', description: 'only entries about this network' }),
    limit: Flags.integer({ description: 'at most this many entries, the newest', default: 100, min: 1, max: 10_000 }),
  };

  async run(): Promise<AuditEntry[]> {
    const { flags } = await this.parse(Audit);
    const es = await adminApi(clientFrom(flags)).listAudit({
      limit: flags.limit,
      ...(flags.since !== undefined ? { since: flags.since } : {}),
      ...(flags.network !== undefined ? { network: flags.network } : {}),
    });
    this.out(es.length === 0 ? 'No audit entries.' : table(['AT', 'ACTOR', 'ACTION', 'TARGET'], es.map((e) => [e.at, e.actor, e.action, e.target])));
    return es;
  }
}
