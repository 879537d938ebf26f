import * as Flags from '@oclif/core/flags';
import { hostname, networkInterfaces } from 'node:os';
import { MeshCommand } from '../cli/base.ts';
import { MeshError } from '../core/errors.ts';

export default class RelayCmd extends MeshCommand {
  static override summary = 'Run a ciphertext relay on this host, registered with a controller, for node pairs with no direct path.';
  static override description = 'Forwards WireGuard datagrams between the two nodes of each pair the controller assigns it, as they are: it holds no keys and cannot read the traffic. Pairs keep forwarding while the controller is away.';
  static override enableJsonFlag = false;
  static override flags = {
    token: Flags.string({ char: 't', description: 'relay token: the content of <data-dir>/relay.token on the controller', env: 'MESHCTL_RELAY_TOKEN' }),
    'token-file': Flags.string({ description: 'read the relay token from this file', env: 'MESHCTL_RELAY_TOKEN_FILE' }),
    addr: Flags.string({ description: 'UDP address to listen on HOST:PORT (default 0.0.0.0:3478); pair ports are chosen by the OS on the same host', env: 'MESHCTL_RELAY_ADDR' }),
    'public-host': Flags.string({ description: 'the address nodes send to (default: the --addr host, else the first non-loopback IPv4)', env: 'MESHCTL_PUBLIC_HOST' }),
    name: Flags.string({ description: 'this relay\'s name among the controller\'s relays (default: the host name)', env: 'MESHCTL_RELAY_NAME' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(RelayCmd);
    const { readFile } = await import('node:fs/promises');
    const { parseHostPort } = await import('../core/address.ts');
    const { startRelayLink } = await import('../relay/link.ts');
    const token = flags.token ?? (flags['token-file'] ? (await readFile(flags['token-file'], 'utf8')).trim() : undefined);
    if (!token) throw new MeshError('INVALID_ARGUMENT', 'no relay token', { hint: 'Pass --token "$(cat <data-dir>/relay.token)" (from the controller) or --token-file' });
    const bind = parseHostPort(flags.addr ?? '0.0.0.0:3478', 'relay address', 3478);
    const publicHost = flags['public-host'] ?? (bind.host !== '0.0.0.0' && bind.host !== '::' ? bind.host : firstIpv4());
    if (!publicHost) throw new MeshError('INVALID_ARGUMENT', 'no address for nodes to send to', { hint: 'Pass --public-host ADDRESS' });
    const log = (m: string) => process.stderr.write(`${new Date().toISOString()} ${m}\n`);
    const running = await startRelayLink({ token, name: flags.name ?? hostname().split('.')[0]!.slice(0, 63), publicHost, bind, log });
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
    log('stopping the relay');
    await running.stop();
    process.exit(0);
  }
}

const firstIpv4 = (): string | undefined =>
  Object.values(networkInterfaces()).flatMap((xs) => xs ?? []).find((a) => a.family === 'IPv4' && !a.internal)?.address;
