import * as Args from '@oclif/core/args';
import { MeshCommand } from '../../../cli/base.ts';
import { adminFlags, clientFrom } from '../../../cli/admin-flags.ts';
import { adminApi } from '../../../cli/admin-api.ts';
import type { AdminToken } from '../../../core/types.ts';

export default class AdminTokenRevoke extends MeshCommand {
  static override summary = 'Revoke an admin token: every request with it is refused from now on.';
  static override args = { name: Args.string({ required: true, description: 'token name (see meshctl admin token list)' }) };
  static override flags = { ...adminFlags };

  async run(): Promise<AdminToken> {
    const { args, flags } = await this.parse(AdminTokenRevoke);
    const t = await adminApi(clientFrom(flags)).revokeAdminToken(args.name);
    this.out(`Revoked admin token ${t.name}.`);
    return t;
  }
}
