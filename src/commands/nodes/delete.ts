import * as Args from '@oclif/core/args';
import { MeshCommand } from '../../cli/base.ts';
import { adminFlags, clientFrom } from '../../cli/admin-flags.ts';
import { adminApi } from '../../cli/admin-api.ts';
import type { MeshNode } from '../../core/types.ts';

export default class NodesDelete extends MeshCommand {
  static override summary = 'Remove a node from its network; its credential stops working.';
  static override hiddenAliases = ['nodes rm'];
  static override args = {
    network: Args.string({ required: true, description: 'network name' }),
    node: Args.string({ required: true, description: 'node name or id' }),
  };
  static override flags = { ...adminFlags };

  async run(): Promise<MeshNode> {
    const { args, flags } = await this.parse(NodesDelete);
    const n = await adminApi(clientFrom(flags)).deleteNode(args.network, args.node);
    this.out(`Deleted node ${n.name} (${n.address}) from network ${n.network}.`);
    return n;
  }
}
