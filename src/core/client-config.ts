// The wg-quick config of an external client. Pure. The controller renders it with a placeholder
// for the private key, which it never has; the CLI that made the key pair puts the key in.
import { assertWgKey } from './wg-key.ts';

export const PRIVATE_KEY_PLACEHOLDER = '<paste yours>';

export interface ClientConfigSpec {
  name: string;
  network: string;
  /** The client's mesh address (no prefix). */
  address: string;
  /** Resolver address for a DNS = line; null for none. */
  dns: string | null;
  gateway: string;
  gatewayPublicKey: string;
  /** "host:port" of the gateway. */
  endpoint: string;
  allowedIps: string[];
  keepalive: number;
}

/** What a client routes through its gateway: everything (full tunnel), else the mesh and every egress range. */
export function clientAllowedIps(meshCidr: string, egressRanges: readonly string[], fullTunnel: boolean): string[] {
  return fullTunnel ? ['0.0.0.0/0'] : [meshCidr, ...[...new Set(egressRanges)].sort()];
}

/** The config text, with `PrivateKey = <paste yours>`. */
export function clientConfig(c: ClientConfigSpec): string {
  return [
    `# meshctl external client ${c.name} of network ${c.network}, through gateway ${c.gateway}`,
    '[Interface]',
    `PrivateKey = ${PRIVATE_KEY_PLACEHOLDER}`,
    `Address = ${c.address}/32`,
    ...(c.dns ? [`DNS = ${c.dns}`] : []),
    '',
    '[Peer]',
    `PublicKey = ${c.gatewayPublicKey}`,
    `Endpoint = ${c.endpoint}`,
    `AllowedIPs = ${c.allowedIps.join(', ')}`,
    ...(c.keepalive > 0 ? [`PersistentKeepalive = ${c.keepalive}`] : []),
    '',
  ].join('\n');
}

/** The config with `privateKey` in place of the placeholder. */
export function withPrivateKey(config: string, privateKey: string): string {
  assertWgKey(privateKey, 'private key');
  return config.replace(`PrivateKey = ${PRIVATE_KEY_PLACEHOLDER}`, `PrivateKey = ${privateKey}`);
}
