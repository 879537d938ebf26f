import { MeshCommand } from '../../cli/base.ts';
import { adminFlags, clientFrom } from '../../cli/admin-flags.ts';
import { adminApi } from '../../cli/admin-api.ts';
import { networksTable } from '../../cli/render.ts';
import type { Network } from '../../core/types.ts';

export default class NetworkList extends MeshCommand {
  static override summary = 'List mesh networks.';
  static override hiddenAliases = ['network ls'];
  static override flags = { ...adminFlags };

  async run(): Promise<Network[]> {
    const { flags } = await this.parse(NetworkList);
    const ns = await adminApi(clientFrom(flags)).listNetworks();
    this.out(networksTable(ns));
    return ns;
  }
}
