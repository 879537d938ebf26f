import * as Args from '@oclif/core/args';
import { MeshCommand } from '../../cli/base.ts';
import { adminFlags, clientFrom } from '../../cli/admin-flags.ts';
import { adminApi } from '../../cli/admin-api.ts';

export default class DnsRm extends MeshCommand {
  static override summary = 'Remove a custom record.';
  static override args = {
    network: Args.string({ required: true, description: 'network name' }),
    name: Args.string({ required: true, description: 'record name' }),
  };
  static override flags = { ...adminFlags };

  async run(): Promise<{ network: string; name: string; removed: true }> {
    const { args, flags } = await this.parse(DnsRm);
    await adminApi(clientFrom(flags)).removeDns(args.network, args.name);
    this.out(`Removed ${args.name}.${args.network}.`);
    return { network: args.network, name: args.name, removed: true };
  }
}
