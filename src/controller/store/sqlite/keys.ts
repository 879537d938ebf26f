// Table `access_keys`: queries. Secrets are stored only as hashes and never read back out.
import type { AccessKey } from '../../../core/types.ts';
import type { NewKey } from '../store.ts';
import { toKey, type KeyRecord as Row } from '../shared/rows.ts';
import { keyExists, noSuchKey } from '../shared/refusals.ts';
import { keyAcceptsSecret, spendableKey } from '../shared/keys.ts';
import type { Sql } from './engine.ts';

export const listKeys = (sql: Sql, network: string): AccessKey[] =>
  sql.all<Row>('SELECT * FROM access_keys WHERE network = ? ORDER BY created_at, name', [network]).map(toKey);

function findRow(sql: Sql, network: string, name: string): Row | undefined {
  return sql.get<Row>('SELECT * FROM access_keys WHERE network = ? AND name = ?', [network, name]);
}

export function insertKey(sql: Sql, k: NewKey): AccessKey {
  if (findRow(sql, k.network, k.name)) throw keyExists(k.network, k.name);
  const createdAt = new Date().toISOString();
  sql.run('INSERT INTO access_keys (network, name, secret_hash, uses_remaining, expires_at, revoked, created_at) VALUES (?, ?, ?, ?, ?, 0, ?)', [
    k.network, k.name, k.secretHash, k.usesRemaining, k.expiresAt, createdAt,
  ]);
  return { name: k.name, network: k.network, usesRemaining: k.usesRemaining, expiresAt: k.expiresAt, revoked: false, createdAt };
}

export function revokeKey(sql: Sql, network: string, name: string): AccessKey {
  const r = findRow(sql, network, name);
  if (!r) throw noSuchKey(network, name);
  sql.run('UPDATE access_keys SET revoked = 1 WHERE network = ? AND name = ?', [network, name]);
  return { ...toKey(r), revoked: true };
}

/** True when `secret` is the secret of a key of `network` named `name` that is not revoked
 * (used up or expired does not matter: for a join retry, which spends nothing). */
export const keyAccepts = (sql: Sql, network: string, name: string, secret: string): boolean => keyAcceptsSecret(findRow(sql, network, name), secret);

/** Verifies a presented key and spends one use of it. Throws KEY_INVALID / KEY_REVOKED / KEY_EXPIRED / KEY_USED_UP. */
export function spendKey(sql: Sql, network: string, name: string, secret: string, now: Date): AccessKey {
  const key = spendableKey(findRow(sql, network, name), network, name, secret, now);
  if (key.usesRemaining !== null) {
    sql.run('UPDATE access_keys SET uses_remaining = uses_remaining - 1 WHERE network = ? AND name = ?', [network, name]);
    return { ...key, usesRemaining: key.usesRemaining - 1 };
  }
  return key;
}
