// The node's WireGuard key pair, made here with node:crypto. The private key is written 0600
// and never leaves this host; only the public key is ever sent.
import { generateKeyPairSync } from 'node:crypto';
import { chmod } from 'node:fs/promises';
import { writeFileDurably } from '../platform/durable-file.ts';

/** Generates an X25519 key pair, writes the private key (base64) to `path` 0600, returns the public key. */
export async function generateKeyFile(path: string): Promise<string> {
  const { publicKey, privateKey } = generateKeyPairSync('x25519');
  const d = privateKey.export({ format: 'jwk' }).d!;
  const x = publicKey.export({ format: 'jwk' }).x!;
  // Durably, like the state file (temp file, fsync, rename, fsync of the directory): a crash
  // right after join must not leave a state file whose key is lost. The rename also replaces
  // whatever was at `path` (a symlink is not followed).
  await writeFileDurably(path, Buffer.from(Buffer.from(d, 'base64url').toString('base64') + '\n'), 0o600);
  await chmod(path, 0o600);
  return Buffer.from(x, 'base64url').toString('base64');
}
