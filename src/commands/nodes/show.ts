import * as Args from '@oclif/core/args';
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
    const peers = (n.peers ?? []).map((p) => {
      const via = p.path === 'relayed' ? ` via relay ${p.relay ?? p.endpoint ?? '?'}` : p.endpoint ? ` via ${p.endpoint}` : '';
      const won = p.path === 'direct' && p.winner ? ` (candidate: ${p.winner.kind} ${p.winner.endpoint})` : '';
      return `  ${p.name}: ${p.path}${via}${won}`;
    });
    this.out(nodesTable([n]) + `\npublic key: ${n.publicKey}` + (peers.length ? `\npeers (as ${n.name} reports them):\n${peers.join('\n')}` : ''));
    return n;
  }
}
