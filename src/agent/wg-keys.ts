// The node's WireGuard key pair, made here (core/wg-key.ts, shared with the admin CLI's client
// keys). The private key is written 0600 and never leaves this host; only the public key is sent.
import { writeFile, chmod } from 'node:fs/promises';
import { generateKeyPair } from '../core/wg-key.ts';

/** Generates an X25519 key pair, writes the private key (base64) to `path` 0600, returns the public key. */
export async function generateKeyFile(path: string): Promise<string> {
  const { privateKey, publicKey } = generateKeyPair();
  await writeFile(path, privateKey + '\n', { mode: 0o600 });
  await chmod(path, 0o600);
  return publicKey;
}
