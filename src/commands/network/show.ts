import * as Args from '@oclif/core/args';
import { MeshCommand } from '../../cli/base.ts';
import { adminFlags, clientFrom } from '../../cli/admin-flags.ts';
import { adminApi } from '../../cli/admin-api.ts';
import { networksTable } from '../../cli/render.ts';
import type { Network } from '../../core/types.ts';

export default class NetworkShow extends MeshCommand {
  static override summary = 'Show one mesh network.';
  static override args = { name: Args.string({ required: true, description: 'network name' }) };
  static override flags = { ...adminFlags };

  async run(): Promise<Network> {
    const { args, flags } = await this.parse(NetworkShow);
    const n = await adminApi(clientFrom(flags)).showNetwork(args.name);
    this.out(networksTable([n]));
    return n;
  }
}
