import * as Args from '@oclif/core/args';
import { MeshCommand } from '../../cli/base.ts';
import { adminFlags, clientFrom } from '../../cli/admin-flags.ts';
import { adminApi } from '../../cli/admin-api.ts';
import type { MeshNode } from '../../core/types.ts';

export default class NodesApprove extends MeshCommand {
  static override summary = 'Approve a pending node (networks with --manual-approval).';
  static override args = {
    network: Args.string({ required: true, description: 'network name' }),
    node: Args.string({ required: true, description: 'node name or id' }),
  };
  static override flags = { ...adminFlags };

  async run(): Promise<MeshNode> {
    const { args, flags } = await this.parse(NodesApprove);
    const n = await adminApi(clientFrom(flags)).approveNode(args.network, args.node);
    this.out(`Approved node ${n.name} (${n.address}) in network ${n.network}.`);
    return n;
  }
}
