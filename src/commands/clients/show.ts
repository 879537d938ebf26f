import * as Args from '@oclif/core/args';
import { MeshCommand } from '../../cli/base.ts';
import { adminFlags, clientFrom } from '../../cli/admin-flags.ts';
import { adminApi } from '../../cli/admin-api.ts';
import { clientsTable } from '../../cli/render.ts';
import type { ExtClient } from '../../core/types.ts';

export default class ClientsShow extends MeshCommand {
  static override summary = 'Show one external client and its config (without a private key: the controller never has it).';
  static override args = {
    network: Args.string({ required: true, description: 'network name' }),
    name: Args.string({ required: true, description: 'client name' }),
  };
  static override flags = { ...adminFlags };

  async run(): Promise<ExtClient> {
    const { args, flags } = await this.parse(ClientsShow);
    const c = await adminApi(clientFrom(flags)).showClient(args.network, args.name);
    this.out(`${clientsTable([c])}\npublic key: ${c.publicKey}\n\n${c.config ?? ''}`);
    return c;
  }
}
