import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { MeshCommand } from '../cli/base.ts';
import { MeshError } from '../core/errors.ts';
import { table } from '../cli/table.ts';
import type { ContextView } from '../cli/login.ts';

export default class Login extends MeshCommand {
  static override summary = 'Check a login token against its controller (CA pin, then secret) and save it as the current context.';
  static override examples = ['<%= config.bin %> login mca1.eyJ2Ijox… --name prod', '<%= config.bin %> login --list'];
  static override args = { token: Args.string({ description: 'login token (mca1.…) from `meshctl admin token create` or <data-dir>/admin.token' }) };
  static override flags = {
    name: Flags.string({ description: 'context name (default: the admin token\'s name)' }),
    list: Flags.boolean({ description: 'list saved contexts instead' }),
  };

  async run(): Promise<ContextView | ContextView[]> {
    const { args, flags } = await this.parse(Login);
    const { login, listContexts } = await import('../cli/login.ts');
    if (flags.list) {
      const list = await listContexts();
      this.out(list.length ? table(['CURRENT', 'NAME', 'SERVER', 'TOKEN'], list.map((c) => [c.current ? '*' : '', c.name, c.server, c.tokenName])) : 'No saved contexts. Log in with: meshctl login LOGIN_TOKEN');
      return list;
    }
    if (!args.token) throw new MeshError('USAGE', 'missing LOGIN_TOKEN', { hint: 'meshctl login mca1.… (an admin makes one with `meshctl admin token create NAME`)' });
    const c = await login(args.token, flags.name !== undefined ? { name: flags.name } : {});
    this.out(`Logged in to ${c.server} as admin token ${c.tokenName}; context "${c.name}" saved (${c.path}) and made current.`);
    const { path: _p, ...view } = c;
    return view;
  }
}
