import * as Args from '@oclif/core/args';
import { MeshCommand } from '../cli/base.ts';

export default class Logout extends MeshCommand {
  static override summary = 'Forget a saved context (default: the current one); the token stays valid until revoked.';
  static override args = { context: Args.string({ description: 'context name (see meshctl login --list)' }) };

  async run(): Promise<{ name: string; removed: true }> {
    const { args } = await this.parse(Logout);
    const { logout } = await import('../cli/login.ts');
    const r = await logout(args.context);
    this.out(`Forgot context "${r.name}". To make its token useless everywhere: meshctl admin token revoke NAME`);
    return r;
  }
}
