// Pure text helpers of the dashboard: ages, byte counts, sparklines, fixed-width cells, and the
// health of a pair of nodes from the handshakes they report. No Ink here.
import type { NodeSoftState } from './source.ts';

/** "12s", "5m", "3h", "2d"; "never" for null. */
export function age(iso: string | null | undefined, now: number): string {
  if (!iso) return 'never';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (!Number.isFinite(s)) return '?';
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  if (s < 172_800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86_400)}d`;
}

/** 1.2K, 34M … (bytes, 1024-based), right for a narrow column. */
export function bytes(n: number): string {
  const units = ['B', 'K', 'M', 'G', 'T'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 || v >= 10 ? Math.round(v) : v.toFixed(1)}${units[i]}`;
}

const BARS = '▁▂▃▄▅▆▇█';

/** A sparkline of `values` (the last `width` of them), scaled to their own maximum. */
export function sparkline(values: readonly number[], width: number): string {
  const v = values.slice(-width);
  const max = Math.max(0, ...v);
  const line = v.map((x) => (max === 0 ? BARS[0] : BARS[Math.min(7, Math.floor((x / max) * 7.999))])).join('');
  return line.padStart(width, ' ');
}

/** `s` cut or padded to exactly `w` characters (an ellipsis marks a cut). */
export function cell(s: string, w: number, right = false): string {
  if (w <= 0) return '';
  if (s.length > w) return w === 1 ? '…' : s.slice(0, w - 1) + '…';
  return right ? s.padStart(w) : s.padEnd(w);
}

/** A handshake at most this old means the pair talks (WireGuard re-handshakes every 2 min while
 * packets flow, and drops a session after 3 min without one). */
export const PAIR_FRESH_MS = 180_000;

export type PairState = 'ok' | 'broken' | 'unknown';

/** A node as the pair matrix needs it: who it is and the handshakes it reports. */
export interface PairNode {
  id: string;
  name: string;
  publicKey: string;
  status: string;
  handshakes: readonly { peer: string; publicKey: string; at: string | null }[];
}

/** Whether `a` and `b` have a recent WireGuard handshake, from what either side reports: `ok`
 * when one does; `broken` when neither does although both are up (healthy or stale) with the
 * controller; `unknown` when one of them is pending or down (nothing to expect). */
export function pairState(a: PairNode, b: PairNode, now: number): PairState {
  const seen = (from: PairNode, to: PairNode) => from.handshakes.find((h) => h.publicKey === to.publicKey || h.peer === to.name || h.peer === to.id);
  const fresh = (at: string | null | undefined) => !!at && now - Date.parse(at) <= PAIR_FRESH_MS;
  if (fresh(seen(a, b)?.at) || fresh(seen(b, a)?.at)) return 'ok';
  const up = (n: PairNode) => n.status === 'healthy' || n.status === 'stale';
  return up(a) && up(b) ? 'broken' : 'unknown';
}

/** The most recent handshake a node reports with any peer (ISO 8601) or null. */
export function latestHandshake(n: NodeSoftState | undefined): string | null {
  let best: string | null = null;
  for (const h of n?.handshakes ?? []) if (h.at && (!best || Date.parse(h.at) > Date.parse(best))) best = h.at;
  return best;
}

/** Case-insensitive substring filter over the given fields. */
export function matches(filter: string, ...fields: (string | null | undefined)[]): boolean {
  if (!filter) return true;
  const f = filter.toLowerCase();
  return fields.some((x) => x?.toLowerCase().includes(f));
}

export const STATUS_COLOR: Record<string, string> = { healthy: 'green', stale: 'yellow', down: 'red', pending: 'cyan' };
