import * as Args from '@oclif/core/args';
import { MeshCommand } from '../../cli/base.ts';
import { adminFlags, clientFrom } from '../../cli/admin-flags.ts';
import { adminApi } from '../../cli/admin-api.ts';
import type { ExtClient } from '../../core/types.ts';

export default class ClientsDelete extends MeshCommand {
  static override summary = 'Delete an external client; its gateway drops it at once.';
  static override hiddenAliases = ['clients rm'];
  static override args = {
    network: Args.string({ required: true, description: 'network name' }),
    name: Args.string({ required: true, description: 'client name' }),
  };
  static override flags = { ...adminFlags };

  async run(): Promise<ExtClient> {
    const { args, flags } = await this.parse(ClientsDelete);
    const c = await adminApi(clientFrom(flags)).deleteClient(args.network, args.name);
    this.out(`Deleted client ${c.name} (${c.address}) of network ${c.network}.`);
    return c;
  }
}
