import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { MeshCommand } from '../../../cli/base.ts';
import { adminFlags, clientFrom } from '../../../cli/admin-flags.ts';
import { adminApi } from '../../../cli/admin-api.ts';
import type { AdminToken } from '../../../core/types.ts';

export default class AdminTokenCreate extends MeshCommand {
  static override summary = 'Create a named admin token; prints it once, as a login token.';
  static override examples = ['<%= config.bin %> admin token create alice --expires 30d'];
  static override args = { name: Args.string({ required: true, description: 'token name (shown in the audit log)' }) };
  static override flags = {
    ...adminFlags,
    expires: Flags.string({ description: 'expiry: a duration (30m, 24h, 7d, 2w) or an ISO date (default: never)' }),
  };

  async run(): Promise<AdminToken & { token: string }> {
    const { args, flags } = await this.parse(AdminTokenCreate);
    const t = await adminApi(clientFrom(flags)).createAdminToken({ name: args.name, ...(flags.expires !== undefined ? { expires: flags.expires } : {}) });
    this.out(
      `Created admin token ${t.name} (expires: ${t.expiresAt ?? 'never'}).\nLogin token (shown only now):\n\n  ${t.token}\n\n` +
        'Use it with: meshctl login <token>   (or MESHCTL_TOKEN=<token>); revoke with: meshctl admin token revoke ' + t.name,
    );
    return t;
  }
}
