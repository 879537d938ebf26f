// Slows down repeated failed joins from one address without affecting other addresses:
// each source has a budget of failures per window; past it, joins are refused until the
// window rolls over.
import { MeshError } from '../../core/errors.ts';

export class JoinLimiter {
  private readonly failures = new Map<string, { count: number; since: number }>();
  private readonly maxFailures: number;
  private readonly windowMs: number;
  private readonly what: string;
  private readonly hint: string;

  /** `what` names the attempts in the refusal ("joins", "admin authentications"). */
  constructor(maxFailures = 10, windowMs = 60_000, what = 'joins', hint = 'Check the join token; ask an admin for a fresh one') {
    this.maxFailures = maxFailures;
    this.windowMs = windowMs;
    this.what = what;
    this.hint = hint;
  }

  /** Throws RATE_LIMITED when `source` spent its failure budget. */
  check(source: string, now = Date.now()): void {
    const f = this.failures.get(source);
    if (!f) return;
    if (now - f.since > this.windowMs) {
      this.failures.delete(source);
      return;
    }
    if (f.count >= this.maxFailures) {
      const wait = Math.ceil((f.since + this.windowMs - now) / 1000);
      throw new MeshError('RATE_LIMITED', `too many failed ${this.what} from ${source}; try again in ${wait}s`, { hint: this.hint });
    }
  }

  fail(source: string, now = Date.now()): void {
    const f = this.failures.get(source);
    if (!f || now - f.since > this.windowMs) this.failures.set(source, { count: 1, since: now });
    else f.count++;
    if (this.failures.size > 10_000) this.failures.delete(this.failures.keys().next().value!); // bound memory
  }
}
