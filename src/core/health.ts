// Node status as shown to admins. Pure.
import type { NodeStatus } from './types.ts';

export const STALE_AFTER_MS = 90_000;
export const DOWN_AFTER_MS = 300_000;

export interface HealthInput {
  approved: boolean;
  /** Last time the node talked to the controller (ISO), if ever. */
  lastContact: string | null;
  /** Most recent WireGuard handshake any peer reported with this node (ms since epoch), if known. */
  lastHandshake?: number | null;
}

/** The freshest sign of life (ms since epoch), 0 for none. */
const latestSign = (h: HealthInput): number => Math.max(h.lastContact ? Date.parse(h.lastContact) : 0, h.lastHandshake ?? 0);

/** pending until approved; then healthy/stale/down from the freshest sign of life: a real
 * handshake reported by a peer, or the node's own contact with the controller. */
export function nodeStatus(h: HealthInput, now: number): NodeStatus {
  if (!h.approved) return 'pending';
  const latest = latestSign(h);
  if (latest === 0) return 'down';
  const age = now - latest;
  if (age <= STALE_AFTER_MS) return 'healthy';
  if (age <= DOWN_AFTER_MS) return 'stale';
  return 'down';
}

/** When `nodeStatus(h, ·)` next changes with no new sign of life (ms since epoch): healthy turns
 * stale, stale turns down. Null when time alone never changes it (pending, down). */
export function statusChangesAt(h: HealthInput, now: number): number | null {
  if (!h.approved) return null;
  const latest = latestSign(h);
  if (latest === 0) return null;
  const age = now - latest;
  if (age <= STALE_AFTER_MS) return latest + STALE_AFTER_MS + 1;
  if (age <= DOWN_AFTER_MS) return latest + DOWN_AFTER_MS + 1;
  return null;
}
