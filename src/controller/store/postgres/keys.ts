// Table `access_keys`: queries. Secrets are stored only as hashes and never read back out.
import type { AccessKey } from '../../../core/types.ts';
import type { NewKey } from '../store.ts';
import { toKey, type KeyRecord as Row } from '../shared/rows.ts';
import { keyExists, noSuchKey } from '../shared/refusals.ts';
import { keyAcceptsSecret, spendableKey } from '../shared/keys.ts';
import type { Q } from './engine.ts';

export const listKeys = async (q: Q, network: string): Promise<AccessKey[]> =>
  (await q.all<Row>('SELECT * FROM access_keys WHERE network = $1 ORDER BY created_at, name', [network])).map(toKey);

const findRow = (q: Q, network: string, name: string, lock = false): Promise<Row | undefined> =>
  q.get<Row>(`SELECT * FROM access_keys WHERE network = $1 AND name = $2${lock ? ' FOR UPDATE' : ''}`, [network, name]);

export async function insertKey(q: Q, k: NewKey): Promise<AccessKey> {
  const createdAt = new Date().toISOString();
  const inserted = await q.run(
    'INSERT INTO access_keys (network, name, secret_hash, uses_remaining, expires_at, revoked, created_at) VALUES ($1, $2, $3, $4, $5, false, $6) ON CONFLICT DO NOTHING',
    [k.network, k.name, k.secretHash, k.usesRemaining, k.expiresAt, createdAt],
  );
  if (inserted === 0) throw keyExists(k.network, k.name);
  return { name: k.name, network: k.network, usesRemaining: k.usesRemaining, expiresAt: k.expiresAt, revoked: false, createdAt };
}

export async function revokeKey(q: Q, network: string, name: string): Promise<AccessKey> {
  const r = await q.get<Row>('UPDATE access_keys SET revoked = true WHERE network = $1 AND name = $2 RETURNING *', [network, name]);
  if (!r) throw noSuchKey(network, name);
  return toKey(r);
}

/** True when `secret` is the secret of a key of `network` named `name` that is not revoked
 * (used up or expired does not matter: for a join retry, which spends nothing). */
export const keyAccepts = async (q: Q, network: string, name: string, secret: string): Promise<boolean> =>
  keyAcceptsSecret(await findRow(q, network, name), secret);

/** Verifies a presented key and spends one use of it, holding the key's row lock until the
 * transaction ends (so a use is spent exactly once whichever controller is asked).
 * Throws KEY_INVALID / KEY_REVOKED / KEY_EXPIRED / KEY_USED_UP. */
export async function spendKey(q: Q, network: string, name: string, secret: string, now: Date): Promise<AccessKey> {
  const key = spendableKey(await findRow(q, network, name, true), network, name, secret, now);
  if (key.usesRemaining !== null) {
    await q.run('UPDATE access_keys SET uses_remaining = uses_remaining - 1 WHERE network = $1 AND name = $2', [network, name]);
    return { ...key, usesRemaining: key.usesRemaining - 1 };
  }
  return key;
}
