// The envelope of meshctl's tokens (join, login and relay tokens): a prefix that names the kind
// and version, then base64url(JSON) of an object with v: 1. Pure.

/** `prefix` + base64url(JSON of `body`). */
export const sealToken = (prefix: string, body: Record<string, unknown>): string => prefix + Buffer.from(JSON.stringify(body), 'utf8').toString('base64url');

/** The body of `token` (white space around it ignored), with `str(k)`: field k when it is a
 * non-empty string. Throws `bad(why)` when the token does not start with `prefix`, is longer than
 * `maxLength`, is not base64url JSON, or is not a version 1 object. */
export function openToken(token: string, prefix: string, bad: (why: string) => Error, maxLength = Infinity): { body: Record<string, unknown>; str: (k: string) => string | undefined } {
  const s = token.trim();
  if (!s.startsWith(prefix)) throw bad(`it does not start with "${prefix}"`);
  if (s.length > maxLength) throw bad('it is too long');
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(Buffer.from(s.slice(prefix.length), 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    throw bad('it is truncated or corrupted');
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body) || body.v !== 1) throw bad('unsupported token version');
  const str = (k: string) => (typeof body[k] === 'string' && (body[k] as string).length > 0 ? (body[k] as string) : undefined);
  return { body, str };
}
