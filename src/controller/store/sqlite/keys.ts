// Table `access_keys`: queries. Secrets are stored only as hashes and never read back out.
import { MeshError } from '../../../core/errors.ts';
import { assertKeyUsable, keyNotAccepted } from '../../../core/keys.ts';
import { secretMatches } from '../../../core/secret.ts';
import type { AccessKey } from '../../../core/types.ts';
import type { NewKey } from '../store.ts';
import type { Sql } from './engine.ts';

interface Row {
  network: string;
  name: string;
  secret_hash: string;
  uses_remaining: number | null;
  expires_at: string | null;
  revoked: number;
  created_at: string;
}

const toKey = (r: Row): AccessKey => ({
  name: r.name,
  network: r.network,
  usesRemaining: r.uses_remaining,
  expiresAt: r.expires_at,
  revoked: r.revoked === 1,
  createdAt: r.created_at,
});

export const listKeys = (sql: Sql, network: string): AccessKey[] =>
  sql.all<Row>('SELECT * FROM access_keys WHERE network = ? ORDER BY created_at, name', [network]).map(toKey);

function findRow(sql: Sql, network: string, name: string): Row | undefined {
  return sql.get<Row>('SELECT * FROM access_keys WHERE network = ? AND name = ?', [network, name]);
}

export function insertKey(sql: Sql, k: NewKey): AccessKey {
  if (findRow(sql, k.network, k.name)) {
    throw new MeshError('ALREADY_EXISTS', `access key "${k.name}" already exists in network "${k.network}"`, { hint: 'Pick another --name, or leave it out for a generated one' });
  }
  const createdAt = new Date().toISOString();
  sql.run('INSERT INTO access_keys (network, name, secret_hash, uses_remaining, expires_at, revoked, created_at) VALUES (?, ?, ?, ?, ?, 0, ?)', [
    k.network, k.name, k.secretHash, k.usesRemaining, k.expiresAt, createdAt,
  ]);
  return { name: k.name, network: k.network, usesRemaining: k.usesRemaining, expiresAt: k.expiresAt, revoked: false, createdAt };
}

export function revokeKey(sql: Sql, network: string, name: string): AccessKey {
  const r = findRow(sql, network, name);
  if (!r) throw new MeshError('NOT_FOUND', `access key "${name}" does not exist in network "${network}"`, { hint: `List keys with: meshctl keys list ${network}` });
  sql.run('UPDATE access_keys SET revoked = 1 WHERE network = ? AND name = ?', [network, name]);
  return { ...toKey(r), revoked: true };
}

/** Verifies a presented key and spends one use of it. Throws KEY_INVALID / KEY_REVOKED / KEY_EXPIRED / KEY_USED_UP. */
/** True when `secret` is the secret of a key of `network` named `name` that is not revoked
 * (used up or expired does not matter: for a join retry, which spends nothing). */
export function keyAccepts(sql: Sql, network: string, name: string, secret: string): boolean {
  const r = findRow(sql, network, name);
  return !!r && secretMatches(secret, r.secret_hash) && !toKey(r).revoked;
}

export function spendKey(sql: Sql, network: string, name: string, secret: string, now: Date): AccessKey {
  const r = findRow(sql, network, name);
  if (!r || !secretMatches(secret, r.secret_hash)) throw keyNotAccepted(network, name, r !== undefined && r !== null);
  const key = toKey(r);
  assertKeyUsable(key, now);
  if (key.usesRemaining !== null) {
    sql.run('UPDATE access_keys SET uses_remaining = uses_remaining - 1 WHERE network = ? AND name = ?', [network, name]);
    return { ...key, usesRemaining: key.usesRemaining - 1 };
  }
  return key;
}
