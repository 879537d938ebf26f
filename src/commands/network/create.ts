import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { MeshCommand } from '../../cli/base.ts';
import { adminFlags, clientFrom } from '../../cli/admin-flags.ts';
import { adminApi } from '../../cli/admin-api.ts';
import type { Network } from '../../core/types.ts';

export default class NetworkCreate extends MeshCommand {
  static override summary = 'Create a mesh network.';
  static override examples = ['<%= config.bin %> network create office --cidr 10.10.0.0/24'];
  static override args = { name: Args.string({ required: true, description: 'network name (a DNS label)' }) };
  static override flags = {
    ...adminFlags,
    cidr: Flags.string({ required: true, description: 'IPv4 range of the mesh, /8 to /30, e.g. 10.10.0.0/24' }),
    port: Flags.integer({ description: 'WireGuard listen port of the nodes (default 51821)' }),
    keepalive: Flags.integer({ description: 'persistent keepalive in seconds (default 20, 0 = off)' }),
    'manual-approval': Flags.boolean({ description: 'new nodes wait for `meshctl nodes approve`' }),
    domain: Flags.string({ description: 'DNS domain of the nodes, <node>.<domain> (default <name>.internal)' }),
    dns: Flags.boolean({ allowNo: true, description: 'nodes answer DNS for the network (default on; --no-dns turns it off)' }),
  };

  async run(): Promise<Network> {
    const { args, flags } = await this.parse(NetworkCreate);
    const n = await adminApi(clientFrom(flags)).createNetwork({
      name: args.name,
      cidr: flags.cidr,
      ...(flags.port !== undefined ? { listenPort: flags.port } : {}),
      ...(flags.keepalive !== undefined ? { keepalive: flags.keepalive } : {}),
      ...(flags['manual-approval'] ? { manualApproval: true } : {}),
      ...(flags.domain !== undefined ? { domain: flags.domain } : {}),
      ...(flags.dns !== undefined ? { dns: flags.dns } : {}),
    });
    this.out(`Created network ${n.name} (${n.cidr}, names under ${n.domain}). Next: meshctl keys create ${n.name}`);
    return n;
  }
}
