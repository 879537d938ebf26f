import * as Args from '@oclif/core/args';
import { MeshCommand } from '../../cli/base.ts';
import { adminFlags, clientFrom } from '../../cli/admin-flags.ts';
import { adminApi } from '../../cli/admin-api.ts';
import type { ExtClient } from '../../core/types.ts';

export default class ClientsEnable extends MeshCommand {
  static override summary = 'Enable an external client again.';
  static override args = {
    network: Args.string({ required: true, description: 'network name' }),
    name: Args.string({ required: true, description: 'client name' }),
  };
  static override flags = { ...adminFlags };

  async run(): Promise<ExtClient> {
    const { args, flags } = await this.parse(ClientsEnable);
    const c = await adminApi(clientFrom(flags)).setClientEnabled(args.network, args.name, true);
    this.out(`Enabled client ${c.name} (${c.address}).`);
    return c;
  }
}
