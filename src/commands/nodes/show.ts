import { Args } from '@oclif/core';
import { MeshCommand } from '../../cli/base.ts';
import { adminFlags, clientFrom } from '../../cli/admin-flags.ts';
import { adminApi } from '../../cli/admin-api.ts';
import { nodesTable } from '../../cli/render.ts';
import type { MeshNode } from '../../core/types.ts';

export default class NodesShow extends MeshCommand {
  static override summary = 'Show one node.';
  static override args = {
    network: Args.string({ required: true, description: 'network name' }),
    node: Args.string({ required: true, description: 'node name or id' }),
  };
  static override flags = { ...adminFlags };

  async run(): Promise<MeshNode> {
    const { args, flags } = await this.parse(NodesShow);
    const n = await adminApi(clientFrom(flags)).showNode(args.network, args.node);
    this.out(nodesTable([n]) + `\npublic key: ${n.publicKey}`);
    return n;
  }
}
