// Checking a presented access key against its row, the same on both engines (the engines read
// the row, and spend the use).
import { assertKeyUsable, keyNotAccepted } from '../../../core/keys.ts';
import { secretMatches } from '../../../core/secret.ts';
import type { AccessKey } from '../../../core/types.ts';
import { toKey, type KeyRecord } from './rows.ts';

/** True when `r` is a key that is not revoked and `secret` is its secret (used up or expired
 * does not matter: for a join retry, which spends nothing). */
export const keyAcceptsSecret = (r: KeyRecord | undefined, secret: string): boolean =>
  !!r && secretMatches(secret, r.secret_hash) && !toKey(r).revoked;

/** The key of row `r` (of `network`, named `name`) when `secret` is its secret and it can be
 * spent at `now`. Throws KEY_INVALID / KEY_REVOKED / KEY_EXPIRED / KEY_USED_UP. */
export function spendableKey(r: KeyRecord | undefined, network: string, name: string, secret: string, now: Date): AccessKey {
  if (!r || !secretMatches(secret, r.secret_hash)) throw keyNotAccepted(network, name, r !== undefined && r !== null);
  const key = toKey(r);
  assertKeyUsable(key, now);
  return key;
}
