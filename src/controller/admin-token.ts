// The admin token file: on first start a named admin token ("initial") is made and written to
// `<dataDir>/admin.token` (0600) as a login token (mca1.…: API URL, CA pin, secret), so that
// `MESHCTL_TOKEN=$(cat admin.token) meshctl …` works anywhere. A file from before login tokens
// (the bare secret) keeps working: its secret is kept and the file rewritten in the new format.
import { existsSync } from 'node:fs';
import { readFile, writeFile, chmod, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { hashSecret, newSecret } from '../core/secret.ts';
import { decodeLoginToken, encodeLoginToken, isLoginToken } from '../core/login-token.ts';
import type { Store } from './store/store.ts';
import { ADMIN_TOKEN_FILE } from './paths.ts';

// The audit log's actor for the token the controller makes itself (no token name has parentheses).
const SYSTEM = 'admin:(first start)';

function secretIn(content: string): string | undefined {
  if (isLoginToken(content)) {
    try {
      return decodeLoginToken(content).secret;
    } catch {
      return undefined;
    }
  }
  return /^[A-Za-z0-9_\-]{32,256}$/.test(content) ? content : undefined;
}

async function freeName(store: Store): Promise<string> {
  const taken = new Set((await store.listAdminTokens()).map((t) => t.name));
  if (!taken.has('initial')) return 'initial';
  for (let i = 2; ; i++) if (!taken.has(`initial-${i}`)) return `initial-${i}`;
}

/**
 * Ensures `<dataDir>/admin.token` holds a login token for `apiUrl` and `caPin` whose secret the
 * store knows; returns its path, whether it was made now, and whether it was revoked (a revoked
 * token is never brought back by a restart).
 */
export async function ensureAdminToken(store: Store, dataDir: string, where: { apiUrl: string; caPin: string }): Promise<{ path: string; created: boolean; revoked: boolean }> {
  const path = join(dataDir, ADMIN_TOKEN_FILE);
  const content = existsSync(path) ? (await readFile(path, 'utf8')).trim() : '';
  let secret = secretIn(content);
  let created = false;
  let row = secret ? await store.getAdminTokenByHash(hashSecret(secret)) : undefined;
  if (!secret) {
    secret = newSecret();
    created = true;
  }
  if (!row) row = await store.createAdminToken({ name: await freeName(store), hash: hashSecret(secret), expiresAt: null }, SYSTEM);
  const wanted = encodeLoginToken({ server: where.apiUrl, caPin: where.caPin, secret, name: row.name });
  if (content !== wanted) {
    const tmp = `${path}.tmp-${process.pid}`;
    await writeFile(tmp, wanted + '\n', { mode: 0o600 });
    await chmod(tmp, 0o600);
    await rename(tmp, path);
  }
  await chmod(path, 0o600);
  return { path, created, revoked: row.revokedAt !== null };
}
