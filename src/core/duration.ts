// `--expires` values: a duration (30m, 24h, 7d, 2w, 90s) or an ISO 8601 date/time. Pure.
import { invalid } from './errors.ts';

const UNIT_MS: Record<string, number> = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 7 * 86400e3 };

/** The latest expiry accepted: the end of year 9999 (beyond it a date has no ISO 8601 form). */
const MAX_EXPIRY_MS = Date.UTC(9999, 11, 31, 23, 59, 59);

/** `--expires`: "0" (never: null), else an absolute expiry as parseExpiry gives. */
export function resolveExpiry(value: string, now: Date): Date | null {
  return value.trim() === '0' ? null : parseExpiry(value, now);
}

/** Resolves `--expires` against `now` to an absolute expiry; the result must lie in the future
 * and no later than year 9999. */
export function parseExpiry(value: string, now: Date): Date {
  const m = /^(\d+)([smhdw])$/.exec(value.trim());
  let at: Date;
  if (m) {
    const n = Number(m[1]);
    if (n <= 0) throw invalid(`expiry "${value}" must be longer than zero`);
    at = new Date(now.getTime() + n * UNIT_MS[m[2]!]!);
    if (!(at.getTime() <= MAX_EXPIRY_MS)) throw invalid(`expiry "${value.slice(0, 40)}" is too far away: the latest is the end of year 9999`, 'Use --expires 0 for a key that never expires');
  } else if (/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value.trim())) {
    at = new Date(value.trim());
    if (Number.isNaN(at.getTime()) || at.getTime() > MAX_EXPIRY_MS) throw invalid(`expiry "${value}" is not a valid date`);
  } else {
    throw invalid(`expiry "${value}" is neither a duration nor a date`, 'Use e.g. --expires 24h, 7d, 2w or an ISO date such as 2027-01-31');
  }
  if (at.getTime() <= now.getTime()) throw invalid(`expiry "${value}" is in the past`, 'Give a future date or a duration such as 24h');
  return at;
}

/** `--since`: a duration back from `now` (90s, 30m, 24h, 7d, 2w) or an ISO 8601 date/time. */
export function parseSince(value: string, now: Date): Date {
  const v = value.trim();
  const m = /^(\d{1,9})([smhdw])$/.exec(v);
  if (m) return new Date(Math.max(0, now.getTime() - Number(m[1]) * UNIT_MS[m[2]!]!));
  if (/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(v)) {
    const at = new Date(v);
    if (!Number.isNaN(at.getTime())) return at;
  }
  throw invalid(`since "${value.slice(0, 40)}" is neither a duration nor a date`, 'Use e.g. --since 1h, 7d or an ISO date such as 2026-11-26T10:00:00Z');
}
