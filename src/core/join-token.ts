// The join token: versioned and URL-safe. "mc1." + base64url(JSON). It carries everything a new
// node needs to reach and trust its controllers (as `kubeadm join` does with its CA pin): every
// controller's node API address, in the order the node should try them, and the pin of the CA
// they all share.
import { MeshError } from './errors.ts';
import { PIN_FORMAT } from './ca-pin.ts';
import { isDnsLabel } from './network.ts';
import { parseHostPort } from './address.ts';
import { openToken, sealToken } from './token-envelope.ts';

export interface JoinToken {
  /** host:port of the (first) controller's gRPC node API */
  server: string;
  /** host:port of every controller's node API, in order; [server] for a single controller. */
  servers: string[];
  network: string;
  keyName: string;
  secret: string;
  /** "sha256:<hex>" of the controller CA's SubjectPublicKeyInfo (DER) */
  caPin: string;
}

const PREFIX = 'mc1.';

/** Encodes a token; `servers` (else `server`) travel comma-separated in one field, so a token
 * naming one controller reads as it always did. */
export function encodeJoinToken(t: Omit<JoinToken, 'servers'> & { servers?: string[] }): string {
  const body = { v: 1, s: (t.servers?.length ? t.servers : [t.server]).join(','), n: t.network, k: t.keyName, x: t.secret, p: t.caPin };
  return sealToken(PREFIX, body);
}

/** Decodes and checks the shape of a token; throws TOKEN_INVALID naming what is wrong. */
export function decodeJoinToken(token: string): JoinToken {
  const bad = (why: string) =>
    new MeshError('TOKEN_INVALID', `the join token is not valid: ${why}`, {
      hint: 'Copy the whole token printed by `meshctl keys create NETWORK`',
    });
  const { str } = openToken(token, PREFIX, bad);
  const server = str('s'), network = str('n'), keyName = str('k'), secret = str('x'), caPin = str('p');
  if (!server || !network || !keyName || !secret || !caPin) throw bad('a field is missing');
  if (!PIN_FORMAT.test(caPin)) throw bad('the CA pin is malformed');
  // The network name becomes file names, an interface name and a DNS zone on the node: only a
  // DNS label may pass (a name such as "x/../../etc/y" would reach outside the config dir).
  if (!isDnsLabel(network)) throw bad('the network name is not a valid name');
  if (!isDnsLabel(keyName)) throw bad('the key name is not a valid name');
  if (secret.length > 256) throw bad('the secret is too long');
  const servers = server.split(',').map((x) => x.trim());
  if (servers.some((x) => x === '')) throw bad('a controller address is empty');
  for (const s of servers) {
    try {
      parseHostPort(s, 'controller address');
    } catch {
      throw bad('the controller address is not HOST:PORT');
    }
  }
  return { server: servers[0]!, servers, network, keyName, secret, caPin };
}
