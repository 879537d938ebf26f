import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { MeshCommand } from '../../cli/base.ts';
import { adminFlags, clientFrom } from '../../cli/admin-flags.ts';
import { adminApi } from '../../cli/admin-api.ts';
import type { MeshNode } from '../../core/types.ts';

export default class NodesIngress extends MeshCommand {
  static override summary = 'Make a node an ingress gateway for external clients (or, with --off, no longer one).';
  static override examples = ['<%= config.bin %> nodes ingress office n1', '<%= config.bin %> nodes ingress office n1 --off'];
  static override args = {
    network: Args.string({ required: true, description: 'network name' }),
    node: Args.string({ required: true, description: 'node name or id' }),
  };
  static override flags = { ...adminFlags, off: Flags.boolean({ description: 'stop being an ingress gateway (refused while it has clients)' }) };

  async run(): Promise<MeshNode> {
    const { args, flags } = await this.parse(NodesIngress);
    const n = await adminApi(clientFrom(flags)).setIngress(args.network, args.node, !flags.off);
    this.out(n.ingress
      ? `Node ${n.name} is an ingress gateway of ${n.network}. Next: meshctl clients create ${n.network} NAME --gateway ${n.name}`
      : `Node ${n.name} is no longer an ingress gateway of ${n.network}.`);
    return n;
  }
}
