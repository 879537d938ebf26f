// Reconnect delays: capped exponential backoff with full jitter, so that nodes coming back to
// a restarted controller spread out instead of arriving at once. Pure (random is injected).

/** The delay before attempt `attempt` (0-based): uniform in [base/2, min(cap, base * 2^attempt)]. */
export function backoffDelay(attempt: number, random: () => number = Math.random, baseMs = 500, capMs = 30_000): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 20));
  const floor = Math.min(baseMs / 2, ceiling);
  return Math.round(floor + random() * (ceiling - floor));
}
