// Per-key token buckets: each key (a node id) may make `burst` calls at once and `perSecond`
// more each second. Memory is bounded: the oldest keys are dropped past `maxKeys`.
import { MeshError } from '../../core/errors.ts';

export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly burst: number;
  private readonly perSecond: number;
  private readonly what: string;
  private readonly maxKeys: number;

  constructor(what: string, burst: number, perSecond: number, maxKeys = 100_000) {
    this.what = what;
    this.burst = burst;
    this.perSecond = perSecond;
    this.maxKeys = maxKeys;
  }

  /** Spends one token of `key`, or throws RATE_LIMITED. */
  take(key: string, now = Date.now()): void {
    const b = this.buckets.get(key) ?? { tokens: this.burst, at: now };
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.perSecond);
    b.at = now;
    if (b.tokens < 1) {
      this.buckets.set(key, b);
      throw new MeshError('RATE_LIMITED', `too many ${this.what}; slow down (${this.perSecond} a second)`, { hint: 'Check that only one agent runs for this node' });
    }
    b.tokens -= 1;
    this.buckets.delete(key); // re-insert: the map stays ordered by last use
    this.buckets.set(key, b);
    if (this.buckets.size > this.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
  }

  forget(key: string): void {
    this.buckets.delete(key);
  }
}
