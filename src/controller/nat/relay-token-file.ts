// <data-dir>/relay.token: the relay token (core/relay-token.ts) standalone relays register with.
// Made on first start (0600); its secret is kept across restarts, and the file is rewritten when
// the controller's addresses or CA change. Delete it and restart to change the secret.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { newSecret } from '../../core/secret.ts';
import { decodeRelayToken, encodeRelayToken } from '../../core/relay-token.ts';
import { writeFileDurably } from '../../platform/durable-file.ts';

export const RELAY_TOKEN_FILE = 'relay.token';

/** Ensures the file holds a relay token for `servers` and `caPin`; returns the secret and the path. */
export async function ensureRelayToken(dataDir: string, servers: string[], caPin: string): Promise<{ secret: string; path: string; created: boolean }> {
  const path = join(dataDir, RELAY_TOKEN_FILE);
  const content = existsSync(path) ? (await readFile(path, 'utf8')).trim() : '';
  let secret: string | undefined;
  try {
    secret = content ? decodeRelayToken(content).secret : undefined;
  } catch {
    secret = undefined;
  }
  const created = secret === undefined;
  secret ??= newSecret();
  const wanted = encodeRelayToken({ servers, caPin, secret });
  if (content !== wanted) await writeFileDurably(path, Buffer.from(wanted + '\n'), 0o600);
  return { secret, path, created };
}
