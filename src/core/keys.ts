// Access keys: the rules for when a key may still be used. Pure.
import { MeshError, invalid } from './errors.ts';
import type { AccessKey } from './types.ts';

export const MAX_USES = 1_000_000;

export function assertUses(uses: number | undefined): void {
  if (uses === undefined) return;
  if (!Number.isInteger(uses) || uses < 1 || uses > MAX_USES) {
    throw invalid(`uses ${uses} must be a whole number from 1 to ${MAX_USES}`, 'Leave --uses out for a key with unlimited uses');
  }
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
