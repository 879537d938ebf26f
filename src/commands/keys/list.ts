import * as Args from '@oclif/core/args';
import { MeshCommand } from '../../cli/base.ts';
import { adminFlags, clientFrom } from '../../cli/admin-flags.ts';
import { adminApi } from '../../cli/admin-api.ts';
import { keysTable } from '../../cli/render.ts';
import type { KeyView } from '../../controller/services/views.ts';

export default class KeysList extends MeshCommand {
  static override summary = 'List a network\'s access keys (never their secrets).';
  static override hiddenAliases = ['keys ls'];
  static override args = { network: Args.string({ required: true, description: 'network name' }) };
  static override flags = { ...adminFlags };

  async run(): Promise<KeyView[]> {
    const { args, flags } = await this.parse(KeysList);
    const ks = await adminApi(clientFrom(flags)).listKeys(args.network);
    this.out(keysTable(ks));
    return ks;
  }
}
