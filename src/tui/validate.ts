// Validation as you type for the dashboard's forms: the same core checks the controller runs,
// turned into a message (or null) instead of an exception.
import { assertDnsLabel, assertUsableRange } from '../core/network.ts';
import { parseRecord } from '../core/dns.ts';
import { parseRange } from '../core/gateway.ts';
import { resolveExpiry } from '../core/duration.ts';

const check = (fn: () => void): string | null => {
  try {
    fn();
    return null;
  } catch (err) {
    return (err as Error).message;
  }
};

export const networkName = (v: string) => check(() => assertDnsLabel(v, 'network name'));
export const networkRange = (v: string) => check(() => assertUsableRange(v));
export const label = (what: string) => (v: string) => check(() => assertDnsLabel(v, what));
export const optionalLabel = (what: string) => (v: string) => (v === '' ? null : check(() => assertDnsLabel(v, what)));
export const recordAddress = (cidr?: string) => (v: string) => check(() => parseRecord('x', v, undefined, cidr));
export const uses = (v: string) => (v === '' || v === 'unlimited' || /^[1-9]\d{0,8}$/.test(v) ? null : 'a number of uses (1 or more), or "unlimited"');
export const duration = (v: string) => (v === '' ? null : check(() => resolveExpiry(v, new Date())));
export const ranges = (v: string) => (v.trim() === '' ? 'one or more CIDR ranges, comma-separated' : check(() => v.split(',').forEach((r) => parseRange(r.trim()))));
