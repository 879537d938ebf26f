import { Args } from '@oclif/core';
import { MeshCommand } from '../../cli/base.ts';
import { adminFlags, clientFrom } from '../../cli/admin-flags.ts';
import { adminApi } from '../../cli/admin-api.ts';
import { nodesTable } from '../../cli/render.ts';
import type { MeshNode } from '../../core/types.ts';

export default class NodesList extends MeshCommand {
  static override summary = 'List nodes of one network, or of all.';
  static override hiddenAliases = ['nodes ls'];
  static override args = { network: Args.string({ required: false, description: 'network name (default: all)' }) };
  static override flags = { ...adminFlags };

  async run(): Promise<MeshNode[]> {
    const { args, flags } = await this.parse(NodesList);
    const ns = await adminApi(clientFrom(flags)).listNodes(args.network);
    this.out(nodesTable(ns));
    return ns;
  }
}
