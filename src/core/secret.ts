// Secrets: generation and one-way storage form. Secrets are 256-bit random values, so a plain
// SHA-256 is a sufficient storage hash (no password stretching is needed for full-entropy input).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A fresh URL-safe secret with `bytes` bytes of entropy (default 32 = 256 bits). */
export const newSecret = (bytes = 32): string => randomBytes(bytes).toString('base64url');

/** The stored form of a secret. */
export const hashSecret = (secret: string): string => createHash('sha256').update(secret, 'utf8').digest('hex');

/** Constant-time comparison of a presented secret with a stored hash. */
export function secretMatches(secret: string, storedHash: string): boolean {
  const a = Buffer.from(hashSecret(secret), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
