import * as Args from '@oclif/core/args';
import { MeshCommand } from '../../cli/base.ts';
import { adminFlags, clientFrom } from '../../cli/admin-flags.ts';
import { adminApi } from '../../cli/admin-api.ts';
import type { DnsExport } from '../../controller/dns-export.ts';

export default class DnsExportCommand extends MeshCommand {
  static override summary = 'Print a network\'s names as a hosts file for CoreDNS, and a Corefile stanza that serves it.';
  static override description = 'The controller keeps the same file up to date at <data-dir>/dns/<domain>.hosts; the stanza points at it.';
  static override examples = ['<%= config.bin %> dns export office'];
  static override args = { network: Args.string({ required: true, description: 'network name' }) };
  static override flags = { ...adminFlags };

  async run(): Promise<DnsExport> {
    const { args, flags } = await this.parse(DnsExportCommand);
    const ex = await adminApi(clientFrom(flags)).exportDns(args.network);
    this.out(`# ${ex.path}\n${ex.hosts}\n# Corefile\n${ex.corefile.trimEnd()}`);
    return ex;
  }
}
