import * as Args from '@oclif/core/args';
import { MeshCommand } from '../../cli/base.ts';
import { adminFlags, clientFrom } from '../../cli/admin-flags.ts';
import { adminApi } from '../../cli/admin-api.ts';
import type { ExtClient } from '../../core/types.ts';

export default class ClientsDisable extends MeshCommand {
  static override summary = 'Disable an external client: its gateway drops it until it is enabled again.';
  static override args = {
    network: Args.string({ required: true, description: 'network name' }),
    name: Args.string({ required: true, description: 'client name' }),
  };
  static override flags = { ...adminFlags };

  async run(): Promise<ExtClient> {
    const { args, flags } = await this.parse(ClientsDisable);
    const c = await adminApi(clientFrom(flags)).setClientEnabled(args.network, args.name, false);
    this.out(`Disabled client ${c.name} (${c.address}). Enable it again with: meshctl clients enable ${c.network} ${c.name}`);
    return c;
  }
}
