import * as Args from '@oclif/core/args';
import { MeshCommand } from '../../cli/base.ts';
import { adminFlags, clientFrom } from '../../cli/admin-flags.ts';
import { adminApi } from '../../cli/admin-api.ts';
import { recordsTable } from '../../cli/render.ts';
import type { DnsRecord } from '../../core/types.ts';

export default class DnsList extends MeshCommand {
  static override summary = 'List a network\'s DNS records: one per node, plus custom ones.';
  static override hiddenAliases = ['dns ls'];
  static override args = { network: Args.string({ required: true, description: 'network name' }) };
  static override flags = { ...adminFlags };

  async run(): Promise<DnsRecord[]> {
    const { args, flags } = await this.parse(DnsList);
    const rs = await adminApi(clientFrom(flags)).listDns(args.network);
    this.out(recordsTable(rs));
    return rs;
  }
}
