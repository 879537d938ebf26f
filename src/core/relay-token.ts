// The relay token: what a standalone relay (`meshctl relay`) needs to register with a controller,
// "mcr1." + base64url(JSON) like join and login tokens: the controllers' node API addresses, the
// SHA-256 pin of their CA, and the relay secret (the controller keeps it in <data-dir>/relay.token).
import { MeshError } from './errors.ts';
import { PIN_FORMAT } from './ca-pin.ts';
import { openToken, sealToken } from './token-envelope.ts';
import { parseHostPort } from './address.ts';

export interface RelayToken {
  /** host:port of each controller's node API (gRPC), in the order to try them. */
  servers: string[];
  /** "sha256:<hex>" of the controller CA's SubjectPublicKeyInfo (DER) */
  caPin: string;
  secret: string;
}

export const RELAY_PREFIX = 'mcr1.';
const SECRET = /^[A-Za-z0-9_-]{32,256}$/;

export function encodeRelayToken(t: RelayToken): string {
  return sealToken(RELAY_PREFIX, { v: 1, s: t.servers.join(','), p: t.caPin, x: t.secret });
}

/** Decodes and checks a relay token; throws TOKEN_INVALID naming what is wrong. */
export function decodeRelayToken(token: string): RelayToken {
  const bad = (why: string) =>
    new MeshError('TOKEN_INVALID', `the relay token is not valid: ${why}`, {
      hint: 'Copy the whole content of <data-dir>/relay.token on the controller',
    });
  const { str } = openToken(token, RELAY_PREFIX, bad, 4096);
  const server = str('s'), caPin = str('p'), secret = str('x');
  if (!server || !caPin || !secret) throw bad('a field is missing');
  if (!PIN_FORMAT.test(caPin)) throw bad('the CA pin is malformed');
  if (!SECRET.test(secret)) throw bad('the secret is malformed');
  const servers = server.split(',').map((x) => x.trim());
  for (const x of servers) {
    try {
      parseHostPort(x, 'controller address');
    } catch {
      throw bad('a controller address is not HOST:PORT');
    }
  }
  return { servers, caPin, secret };
}

/**
 * Which relay serves a pair: rendezvous hashing of the pair over the relays' names, so that every
 * controller (and the same controller after a restart) picks the same one while the set of relays
 * is the same, and a relay that goes away moves only its own pairs. null when there is none.
 */
export function pickRelay(pair: string, relays: readonly string[]): string | null {
  let best: string | null = null;
  let bestScore = -1;
  for (const r of [...relays].sort()) {
    let h = 0x811c9dc5;
    for (const ch of `${r}\0${pair}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
    if (h > bestScore) {
      best = r;
      bestScore = h;
    }
  }
  return best;
}
