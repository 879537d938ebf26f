import * as Args from '@oclif/core/args';
import { MeshCommand } from '../../cli/base.ts';
import { adminFlags, clientFrom } from '../../cli/admin-flags.ts';
import { adminApi } from '../../cli/admin-api.ts';
import type { DnsRecord } from '../../core/types.ts';

export default class DnsAdd extends MeshCommand {
  static override summary = 'Add a custom record NAME.<domain> -> ADDRESS (an IPv4 address, or another name of the network: a CNAME).';
  static override examples = ['<%= config.bin %> dns add office printer 10.10.0.200', '<%= config.bin %> dns add office db n2'];
  static override args = {
    network: Args.string({ required: true, description: 'network name' }),
    name: Args.string({ required: true, description: 'record name (a DNS label)' }),
    address: Args.string({ required: true, description: 'IPv4 address, or a name of the network (CNAME)' }),
  };
  static override flags = { ...adminFlags };

  async run(): Promise<DnsRecord> {
    const { args, flags } = await this.parse(DnsAdd);
    const r = await adminApi(clientFrom(flags)).addDns(args.network, args.name, args.address);
    this.out(`Added ${r.name} (${r.network}) ${r.type ?? 'A'} ${r.address}.`);
    return r;
  }
}
