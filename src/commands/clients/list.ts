import * as Args from '@oclif/core/args';
import { MeshCommand } from '../../cli/base.ts';
import { adminFlags, clientFrom } from '../../cli/admin-flags.ts';
import { adminApi } from '../../cli/admin-api.ts';
import { clientsTable } from '../../cli/render.ts';
import type { ExtClient } from '../../core/types.ts';

export default class ClientsList extends MeshCommand {
  static override summary = 'List a network\'s external clients.';
  static override hiddenAliases = ['clients ls'];
  static override args = { network: Args.string({ required: true, description: 'network name' }) };
  static override flags = { ...adminFlags };

  async run(): Promise<ExtClient[]> {
    const { args, flags } = await this.parse(ClientsList);
    const cs = await adminApi(clientFrom(flags)).listClients(args.network);
    this.out(clientsTable(cs));
    return cs;
  }
}
