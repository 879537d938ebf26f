// Access keys: the rules for when a key may still be used. Pure.
import { MeshError, invalid } from './errors.ts';
import type { AccessKey } from './types.ts';

export const MAX_USES = 1_000_000;
/** A key made without --uses admits one node; without --expires it lasts a day. */
export const DEFAULT_USES = 1;
export const DEFAULT_EXPIRES = '24h';

/** `--uses`: a whole number from 1 to MAX_USES, or "unlimited" (null). Default: DEFAULT_USES. */
export function resolveUses(uses: number | string | undefined): number | null {
  if (uses === undefined) return DEFAULT_USES;
  if (uses === 'unlimited') return null;
  const n = typeof uses === 'string' && /^\d{1,7}$/.test(uses) ? Number(uses) : uses;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_USES) {
    throw invalid(`uses ${String(uses).slice(0, 40)} must be a whole number from 1 to ${MAX_USES}, or "unlimited"`, 'For example: --uses 3, or --uses unlimited');
  }
  return n;
}

/** Kept for callers that validate a count alone. */
export function assertUses(uses: number | undefined): void {
  if (uses !== undefined) resolveUses(uses);
}

/** KEY_INVALID for a presented key that is not accepted: `known` says whether the network has a
 * key of that name (then the secret was wrong: the token is damaged or cut short). */
export function keyNotAccepted(network: string, name: string, known: boolean): MeshError {
  return known
    ? new MeshError('KEY_INVALID', `the secret in this token does not match access key "${name}" of network "${network}": the token is damaged or incomplete`, {
        hint: 'Copy the whole token (it is one long line starting with mc1.), or ask an admin for a new one: meshctl keys create ' + network,
      })
    : new MeshError('KEY_INVALID', `network "${network}" has no access key named "${name}" (it was never made on this controller, or the network was deleted and made again)`, {
        hint: 'Ask an admin for a current token: meshctl keys create ' + network,
      });
}

/** Throws KEY_REVOKED / KEY_EXPIRED / KEY_USED_UP when `key` cannot admit a node at `now`. */
export function assertKeyUsable(key: AccessKey, now: Date): void {
  if (key.revoked) {
    throw new MeshError('KEY_REVOKED', `access key "${key.name}" of network "${key.network}" has been revoked`, {
      hint: `Ask an admin for a new key: meshctl keys create ${key.network}`,
    });
  }
  if (key.expiresAt !== null && Date.parse(key.expiresAt) <= now.getTime()) {
    throw new MeshError('KEY_EXPIRED', `access key "${key.name}" of network "${key.network}" expired at ${key.expiresAt}`, {
      hint: `Ask an admin for a new key: meshctl keys create ${key.network}`,
    });
  }
  if (key.usesRemaining !== null && key.usesRemaining <= 0) {
    throw new MeshError('KEY_USED_UP', `access key "${key.name}" of network "${key.network}" has no uses left`, {
      hint: `Ask an admin for a new key: meshctl keys create ${key.network} --uses N`,
    });
  }
}
