// The node's WireGuard key pair, made here (core/wg-key.ts, shared with the admin CLI's client
// keys). The private key is written 0600 and never leaves this host; only the public key is sent.
import { chmod } from 'node:fs/promises';
import { readFile } from 'node:fs/promises';
import { generateKeyPair, isWgKey, publicKeyOf } from '../core/wg-key.ts';
import { writeFileDurably } from '../platform/durable-file.ts';

/** Generates an X25519 key pair, writes the private key (base64) to `path` 0600, returns the public key. */
export async function generateKeyFile(path: string): Promise<string> {
  const { privateKey, publicKey } = generateKeyPair();
  // Durably, like the state file (temp file, fsync, rename, fsync of the directory): a crash
  // right after join must not leave a state file whose key is lost. The rename also replaces
  // whatever was at `path` (a symlink is not followed).
  await writeFileDurably(path, Buffer.from(privateKey + '\n'), 0o600);
  await chmod(path, 0o600);
  return publicKey;
}

/** The public key of the private key already at `path` (made by a join that did not finish), or
 * a new pair written there when there is none or it is not a key. The file is made 0600 either way. */
export async function keyFileOrNew(path: string): Promise<{ publicKey: string; reused: boolean }> {
  let existing: string | undefined;
  try {
    existing = (await readFile(path, 'utf8')).trim();
  } catch {
    existing = undefined;
  }
  if (existing !== undefined && isWgKey(existing)) {
    await chmod(path, 0o600);
    return { publicKey: publicKeyOf(existing), reused: true };
  }
  return { publicKey: await generateKeyFile(path), reused: false };
}
