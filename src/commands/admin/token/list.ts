import { MeshCommand } from '../../../cli/base.ts';
import { adminFlags, clientFrom } from '../../../cli/admin-flags.ts';
import { adminApi } from '../../../cli/admin-api.ts';
import { table } from '../../../cli/table.ts';
import type { AdminToken } from '../../../core/types.ts';

export default class AdminTokenList extends MeshCommand {
  static override summary = 'List admin tokens (never their secrets).';
  static override flags = { ...adminFlags };

  async run(): Promise<AdminToken[]> {
    const { flags } = await this.parse(AdminTokenList);
    const ts = await adminApi(clientFrom(flags)).listAdminTokens();
    const state = (t: AdminToken) => (t.revokedAt ? 'revoked' : t.expiresAt && Date.parse(t.expiresAt) <= Date.now() ? 'expired' : 'active');
    this.out(table(['NAME', 'STATE', 'CREATED', 'EXPIRES', 'REVOKED'], ts.map((t) => [t.name, state(t), t.createdAt, t.expiresAt ?? 'never', t.revokedAt])));
    return ts;
  }
}
