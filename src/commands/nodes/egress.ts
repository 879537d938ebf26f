import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { MeshCommand } from '../../cli/base.ts';
import { adminFlags, clientFrom } from '../../cli/admin-flags.ts';
import { adminApi } from '../../cli/admin-api.ts';
import { MeshError } from '../../core/errors.ts';
import type { MeshNode } from '../../core/types.ts';

export default class NodesEgress extends MeshCommand {
  static override summary = 'Make a node the egress gateway of ranges behind it (or, with --off, no longer one).';
  static override description = 'Every other node and every external client then routes the ranges through it. Ranges that overlap the mesh or another gateway\'s are refused.';
  static override examples = ['<%= config.bin %> nodes egress office n1 --ranges 192.168.7.0/24 --nat', '<%= config.bin %> nodes egress office n1 --off'];
  static override args = {
    network: Args.string({ required: true, description: 'network name' }),
    node: Args.string({ required: true, description: 'node name or id' }),
  };
  static override flags = {
    ...adminFlags,
    ranges: Flags.string({ description: 'comma-separated IPv4 ranges, e.g. 192.168.7.0/24,10.99.0.0/16' }),
    nat: Flags.boolean({ description: 'masquerade mesh traffic into the ranges as the gateway\'s own address' }),
    off: Flags.boolean({ description: 'stop being an egress gateway', exclusive: ['ranges', 'nat'] }),
  };

  async run(): Promise<MeshNode> {
    const { args, flags } = await this.parse(NodesEgress);
    if (!flags.off && !flags.ranges) throw new MeshError('USAGE', 'give --ranges CIDR[,CIDR], or --off', { hint: 'For example: --ranges 192.168.7.0/24 --nat' });
    const egress = flags.off ? null : { ranges: flags.ranges!.split(',').map((r) => r.trim()).filter(Boolean), nat: flags.nat };
    const n = await adminApi(clientFrom(flags)).setEgress(args.network, args.node, egress);
    this.out(n.egressRanges.length
      ? `Node ${n.name} is the egress gateway of ${n.egressRanges.join(', ')}${n.egressNat ? ' (NAT)' : ''} in ${n.network}.`
      : `Node ${n.name} is no longer an egress gateway of ${n.network}.`);
    return n;
  }
}
