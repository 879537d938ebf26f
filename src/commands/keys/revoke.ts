import * as Args from '@oclif/core/args';
import { MeshCommand } from '../../cli/base.ts';
import { adminFlags, clientFrom } from '../../cli/admin-flags.ts';
import { adminApi } from '../../cli/admin-api.ts';
import type { KeyView } from '../../controller/services/views.ts';

export default class KeysRevoke extends MeshCommand {
  static override summary = 'Revoke an access key: no node can join with it any more.';
  static override args = {
    network: Args.string({ required: true, description: 'network name' }),
    name: Args.string({ required: true, description: 'key name' }),
  };
  static override flags = { ...adminFlags };

  async run(): Promise<KeyView> {
    const { args, flags } = await this.parse(KeysRevoke);
    const k = await adminApi(clientFrom(flags)).revokeKey(args.network, args.name);
    this.out(`Revoked key ${k.name} of network ${k.network}.`);
    return k;
  }
}
