import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { MeshCommand } from '../../cli/base.ts';
import { adminFlags, clientFrom } from '../../cli/admin-flags.ts';
import { adminApi } from '../../cli/admin-api.ts';
import { createClient, openConfigFile, qrOf } from '../../cli/clients.ts';
import type { ExtClient } from '../../core/types.ts';

export default class ClientsCreate extends MeshCommand {
  static override summary = 'Create an external client: a plain WireGuard config that reaches the mesh through an ingress gateway.';
  static override description = 'Without --public-key the key pair is made on this machine and only the public key is sent; the controller never has the private key.';
  static override examples = [
    '<%= config.bin %> clients create office phone --gateway n1',
    '<%= config.bin %> clients create office laptop --gateway n1 --out laptop.conf',
    '<%= config.bin %> clients create office tablet --gateway n1 --public-key $(wg pubkey < tablet.key)',
  ];
  static override args = {
    network: Args.string({ required: true, description: 'network name' }),
    name: Args.string({ required: true, description: 'client name (a DNS label)' }),
  };
  static override flags = {
    ...adminFlags,
    gateway: Flags.string({ required: true, description: 'the ingress gateway node (name or id)' }),
    'public-key': Flags.string({ description: 'the client\'s own WireGuard public key (the config then says PrivateKey = <paste yours>)' }),
    out: Flags.string({ description: 'write the config to FILE (created with mode 0600; an existing file is refused) instead of printing it' }),
    dns: Flags.boolean({ description: 'add a DNS = line: the gateway\'s private DNS responder' }),
    'full-tunnel': Flags.boolean({ description: 'route all of the client\'s traffic through the gateway (AllowedIPs = 0.0.0.0/0)' }),
  };

  async run(): Promise<ExtClient> {
    const { args, flags } = await this.parse(ClientsCreate);
    // Claimed first: a bad path must fail before the client exists (its private key would be lost).
    const out = flags.out ? await openConfigFile(flags.out) : undefined;
    let c: ExtClient;
    try {
      c = await createClient(adminApi(clientFrom(flags)), args.network, {
        name: args.name,
        gateway: flags.gateway,
        ...(flags['public-key'] ? { publicKey: flags['public-key'] } : {}),
        dns: flags.dns,
        fullTunnel: flags['full-tunnel'],
      });
    } catch (e) {
      await out?.discard();
      throw e;
    }
    if (out) {
      await out.write(c.config ?? '');
      this.out(`Created client ${c.name} (${c.address}) through gateway ${c.gateway}; wrote its config to ${flags.out} (0600).`);
    } else if (!this.jsonEnabled()) {
      this.out(`${c.config ?? ''}\n${await qrOf(c.config ?? '')}\nCreated client ${c.name} (${c.address}) through gateway ${c.gateway}. Bring it up with: wg-quick up ./${c.name}.conf`);
    }
    return c;
  }
}
