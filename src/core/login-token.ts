// The admin login token: versioned and URL-safe, "mca1." + base64url(JSON), the pattern of join
// tokens. It carries what an admin client needs to reach and trust exactly one controller's admin
// API: its URL, the SHA-256 pin of the controller CA, and the admin token's secret (and name).
import { MeshError } from './errors.ts';
import { PIN_FORMAT } from './ca-pin.ts';
import { openToken, sealToken } from './token-envelope.ts';

export interface LoginToken {
  /** https://host:port of the admin API */
  server: string;
  /** "sha256:<hex>" of the controller CA's SubjectPublicKeyInfo (DER) */
  caPin: string;
  secret: string;
  /** The admin token's name, when known (the default context name). */
  name?: string;
}

export const LOGIN_PREFIX = 'mca1.';
const SECRET = /^[A-Za-z0-9_-]{16,256}$/;

/** True for anything shaped like a login token (it may still fail to decode). */
export const isLoginToken = (s: string): boolean => s.trim().startsWith(LOGIN_PREFIX);

export function encodeLoginToken(t: LoginToken): string {
  const body = { v: 1, u: t.server, p: t.caPin, x: t.secret, ...(t.name ? { n: t.name } : {}) };
  return sealToken(LOGIN_PREFIX, body);
}

/** Decodes and checks the shape of a login token; throws TOKEN_INVALID naming what is wrong. */
export function decodeLoginToken(token: string): LoginToken {
  const bad = (why: string) =>
    new MeshError('TOKEN_INVALID', `the login token is not valid: ${why}`, {
      hint: 'Copy the whole token printed by `meshctl admin token create NAME` (or the content of <data-dir>/admin.token)',
    });
  const { body, str } = openToken(token, LOGIN_PREFIX, bad, 4096);
  const server = str('u'), caPin = str('p'), secret = str('x'), name = str('n');
  if (!server || !caPin || !secret) throw bad('a field is missing');
  if (!PIN_FORMAT.test(caPin)) throw bad('the CA pin is malformed');
  if (!SECRET.test(secret)) throw bad('the secret is malformed');
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw bad('the server URL is malformed');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw bad('the server URL is not http(s)');
  if (body.n !== undefined && (typeof body.n !== 'string' || !name)) throw bad('the name is malformed');
  return { server: url.origin, caPin, secret, ...(name ? { name } : {}) };
}
