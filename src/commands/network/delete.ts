import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { MeshCommand } from '../../cli/base.ts';
import { adminFlags, clientFrom } from '../../cli/admin-flags.ts';
import { adminApi } from '../../cli/admin-api.ts';

export default class NetworkDelete extends MeshCommand {
  static override summary = 'Delete a network with its keys and records (--force: and its nodes).';
  static override hiddenAliases = ['network rm'];
  static override args = { name: Args.string({ required: true, description: 'network name' }) };
  static override flags = { ...adminFlags, force: Flags.boolean({ description: 'also delete the network\'s nodes' }) };

  async run(): Promise<{ name: string; deleted: true }> {
    const { args, flags } = await this.parse(NetworkDelete);
    await adminApi(clientFrom(flags)).deleteNetwork(args.name, flags.force);
    this.out(`Deleted network ${args.name}.`);
    return { name: args.name, deleted: true };
  }
}
