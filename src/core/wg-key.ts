// WireGuard X25519 keys as base64 strings, made and checked with node:crypto. Pure (no files):
// the agent writes a node's private key to its 0600 file; the admin CLI makes an external client's
// pair where the config is printed. Both use these; neither sends a private key anywhere.
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { invalid } from './errors.ts';

export interface WgKeyPair {
  privateKey: string;
  publicKey: string;
}

const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex');

/** A fresh X25519 key pair, both halves base64 (the form `wg genkey | wg pubkey` prints). */
export function generateKeyPair(): WgKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('x25519');
  return {
    privateKey: Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url').toString('base64'),
    publicKey: Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url').toString('base64'),
  };
}

/** True when `s` is a base64 WireGuard key (32 bytes, canonical padding). */
export const isWgKey = (s: string): boolean => /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/.test(s);

/** Throws INVALID_ARGUMENT naming `what` unless `s` is a base64 WireGuard key. */
export function assertWgKey(s: string, what = 'public key'): void {
  if (!isWgKey(s)) throw invalid(`${what} "${s.slice(0, 60)}" is not a WireGuard key (44 base64 characters)`, 'Make one with: wg genkey | wg pubkey');
}

/** The public key of a base64 private key; throws INVALID_ARGUMENT when it is not 32 bytes. */
export function publicKeyOf(privateKey: string): string {
  const raw = Buffer.from(privateKey.trim(), 'base64');
  if (raw.length !== 32) throw invalid('not a base64 WireGuard key (32 bytes)');
  const jwk = createPublicKey(createPrivateKey({ key: Buffer.concat([PKCS8_X25519, raw]), format: 'der', type: 'pkcs8' })).export({ format: 'jwk' });
  return Buffer.from(jwk.x!, 'base64url').toString('base64');
}
