import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { MeshCommand } from '../../cli/base.ts';
import { adminFlags, clientFrom } from '../../cli/admin-flags.ts';
import { adminApi } from '../../cli/admin-api.ts';
import { resolveUses } from '../../core/keys.ts';
import type { KeyView } from '../../controller/services/views.ts';

export default class KeysCreate extends MeshCommand {
  static override summary = 'Create an access key; prints its join token once.';
  static override examples = ['<%= config.bin %> keys create office --uses 3 --expires 24h'];
  static override args = { network: Args.string({ required: true, description: 'network name' }) };
  static override flags = {
    ...adminFlags,
    name: Flags.string({ description: 'key name (default: generated)' }),
    uses: Flags.string({ description: 'how many nodes may join with it: a number, or "unlimited" (default: 1)' }),
    expires: Flags.string({ description: 'expiry: a duration (30m, 24h, 7d, 2w), an ISO date, or 0 for never (default: 24h)' }),
  };

  async run(): Promise<KeyView & { token: string }> {
    const { args, flags } = await this.parse(KeysCreate);
    const k = await adminApi(clientFrom(flags)).createKey(args.network, {
      ...(flags.name !== undefined ? { name: flags.name } : {}),
      ...(flags.uses !== undefined ? { uses: flags.uses === 'unlimited' ? 'unlimited' as const : resolveUses(flags.uses)! } : {}),
      ...(flags.expires !== undefined ? { expires: flags.expires } : {}),
    });
    this.out(
      `Created key ${k.name} for network ${k.network} (uses: ${k.usesRemaining ?? 'unlimited'}, expires: ${k.expiresAt ?? 'never'}).\n` +
        `Join token (shown only now):\n\n  ${k.token}\n\nOn each node, as root: meshctl join -t <token>`,
    );
    return k;
  }
}
