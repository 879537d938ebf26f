import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { MeshCommand } from '../../cli/base.ts';
import { adminFlags, clientFrom } from '../../cli/admin-flags.ts';
import { adminApi } from '../../cli/admin-api.ts';
import { networksTable } from '../../cli/render.ts';
import { MeshError } from '../../core/errors.ts';
import type { Network } from '../../core/types.ts';

export default class NetworkUpdate extends MeshCommand {
  static override summary = 'Change a network\'s settings (the range cannot change).';
  static override examples = ['<%= config.bin %> network update office --keepalive 25', '<%= config.bin %> network update office --no-manual-approval'];
  static override args = { name: Args.string({ required: true, description: 'network name' }) };
  static override flags = {
    ...adminFlags,
    port: Flags.integer({ description: 'WireGuard listen port of the nodes' }),
    keepalive: Flags.integer({ description: 'persistent keepalive in seconds (0 = off)' }),
    'manual-approval': Flags.boolean({ allowNo: true, description: 'new nodes wait for `meshctl nodes approve`' }),
    domain: Flags.string({ description: 'DNS domain of the nodes, <node>.<domain>' }),
    dns: Flags.boolean({ allowNo: true, description: 'nodes answer DNS for the network' }),
  };

  async run(): Promise<Network> {
    const { args, flags } = await this.parse(NetworkUpdate);
    const patch = {
      ...(flags.port !== undefined ? { listenPort: flags.port } : {}),
      ...(flags.keepalive !== undefined ? { keepalive: flags.keepalive } : {}),
      ...(flags['manual-approval'] !== undefined ? { manualApproval: flags['manual-approval'] } : {}),
      ...(flags.domain !== undefined ? { domain: flags.domain } : {}),
      ...(flags.dns !== undefined ? { dns: flags.dns } : {}),
    };
    if (Object.keys(patch).length === 0) {
      throw new MeshError('USAGE', 'nothing to update', { hint: 'Give at least one of --port, --keepalive, --[no-]manual-approval, --domain, --[no-]dns' });
    }
    const n = await adminApi(clientFrom(flags)).updateNetwork(args.name, patch);
    this.out(networksTable([n]));
    return n;
  }
}
