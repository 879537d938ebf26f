// The admin token file: created on first start (random, 0600), its hash registered in the store.
import { existsSync } from 'node:fs';
import { readFile, writeFile, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { hashSecret, newSecret } from '../core/secret.ts';
import type { Store } from './store/store.ts';
import { ADMIN_TOKEN_FILE } from './paths.ts';

/** Ensures `<dataDir>/admin.token` exists and is accepted; returns its path and whether it was made now. */
export async function ensureAdminToken(store: Store, dataDir: string): Promise<{ path: string; created: boolean }> {
  const path = join(dataDir, ADMIN_TOKEN_FILE);
  if (existsSync(path)) {
    const token = (await readFile(path, 'utf8')).trim();
    if (token.length >= 32) {
      await chmod(path, 0o600);
      if (!(await store.hasAdminToken(hashSecret(token)))) await store.addAdminToken(hashSecret(token));
      return { path, created: false };
    }
  }
  const token = newSecret();
  await store.addAdminToken(hashSecret(token));
  await writeFile(path, token + '\n', { mode: 0o600 });
  await chmod(path, 0o600);
  return { path, created: true };
}
