// After a burst (a storm of joins, a restart herd), once the controller is quiet again, V8 is
// asked for one memory-reducing full collection. A burst grows the V8 heap and its young
// generation to their caps; V8's own memory reducer gives them back only if the process stays
// idle long enough, which a controller holding thousands of Watch streams (keepalive pings) seldom
// is. After 5,000 joins one such collection gives about 100 MB back, after the start-up about
// 35 MB (issue 15, `npm run bench:converge`). It blocks the event loop once per burst: 300-660 ms
// at 5,000 agents (V8 heap 120-220 MB), under 100 ms after the start-up.
//
// The collection is V8's `gc` with a last-resort flavour (several full GCs that compact and shrink
// the young generation). `gc` is exposed only to a context made while --expose-gc is set: the flag
// is set for the time it takes to make one, so no other code sees a global `gc`.
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Logger } from 'pino';

export interface QuietPolicy {
  /** How often the event loop's use is looked at. */
  everyMs: number;
  /** Busy time of the event loop since the last collection that makes one worth it (a burst). */
  busyMs: number;
  /** Largest share of a period the loop may have been busy for it to count as quiet; it must
   * also be at most half the busiest period since the last collection. */
  quiet: number;
}

/** A controller holding 5,000 idle Watch streams keeps its event loop a few % busy (keepalive
 * pings); a burst of joins keeps it 80-100 % busy. */
export const QUIET_POLICY: QuietPolicy = { everyMs: 10_000, busyMs: 2_000, quiet: 0.25 };

/** Decides, one period at a time, when to collect: once the loop has been busy for `busyMs` since
 * the last collection, in a period that is quiet (at most `quiet`) and at most half as busy as
 * the busiest one since the last collection. A steady load, however high, is not a burst.
 * `afterStart`: the start-up counts as a burst (its garbage, some 25 MB, goes at the first quiet
 * period). */
export function burstDecider(policy: QuietPolicy = QUIET_POLICY, afterStart = false): (period: { activeMs: number; utilization: number }) => boolean {
  let busy = afterStart ? policy.busyMs : 0;
  let peak = afterStart ? 1 : 0;
  return ({ activeMs, utilization }) => {
    busy += activeMs;
    peak = Math.max(peak, utilization);
    if (busy < policy.busyMs || utilization > policy.quiet || utilization > peak / 2) return false;
    busy = 0;
    peak = 0;
    return true;
  };
}

/** A memory-reducing full collection, or null where V8 will not give one. */
export function loadCollect(): (() => void) | null {
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    if (typeof gc !== 'function') return null;
    return () => void gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  } catch {
    return null;
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
}

const mb = (n: number) => Math.round(n / 2 ** 20);

/** Collects once quiet after the start-up and after each burst (see burstDecider); returns a
 * stop function. */
export function collectWhenQuiet(log: Logger, policy: QuietPolicy = QUIET_POLICY, collect: (() => void) | null = loadCollect()): () => void {
  if (!collect) {
    log.debug('no memory-reducing collection here; V8 gives a burst\'s memory back on its own time');
    return () => {};
  }
  const decide = burstDecider(policy, true);
  let last: EventLoopUtilization = performance.eventLoopUtilization();
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    const period = performance.eventLoopUtilization(now, last);
    last = now;
    if (!decide({ activeMs: period.active, utilization: period.utilization })) return;
    const before = process.memoryUsage();
    const t0 = performance.now();
    collect();
    const after = process.memoryUsage();
    log.info({ ms: Math.round(performance.now() - t0), rssMb: mb(before.rss), freedMb: mb(before.rss - after.rss), heapMb: mb(after.heapTotal) }, 'collected the V8 heap once quiet after the start or a burst');
  }, policy.everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
