// A join repeated because its reply was lost: the controller committed the node, the node never
// heard. Pure. The store decides with this (and the key's secret) whether to hand the same node
// back with a fresh credential instead of refusing (key used up, name or key taken).

/** How long after a join the same node may repeat it. */
export const JOIN_RETRY_MS = 10 * 60_000;

/**
 * True when a join of `publicKey` under the name of `prev` repeats the join that made `prev`:
 * the same public key (only the node holds its private key), within JOIN_RETRY_MS, and no
 * contact since (a node that got its reply checks in at once, which closes this door, so a
 * token holder cannot take over a node that is running).
 */
export function isJoinRetry(prev: { publicKey: string; createdAt: string; lastContact: string | null }, publicKey: string, now: Date): boolean {
  if (prev.publicKey !== publicKey) return false;
  const made = Date.parse(prev.createdAt);
  if (!Number.isFinite(made) || now.getTime() - made > JOIN_RETRY_MS) return false;
  return prev.lastContact === null || prev.lastContact === prev.createdAt;
}
