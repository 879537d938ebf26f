// Traffic history per node for the sparklines: the rx+tx bytes added between two status polls.
import React from 'react';
import type { NetworkSoftState, NodeSoftState } from './source.ts';

export const HISTORY = 30;

/** Keeps, per node id, the last HISTORY traffic deltas of the polls of `status`. */
export function useTraffic(status: NetworkSoftState | undefined): Map<string, number[]> {
  const ref = React.useRef({ last: new Map<string, number>(), hist: new Map<string, number[]>(), seen: undefined as NetworkSoftState | undefined });
  const r = ref.current;
  if (status && status !== r.seen) {
    r.seen = status;
    for (const n of status.nodes) {
      const total = n.rxBytes + n.txBytes;
      const prev = r.last.get(n.id);
      r.last.set(n.id, total);
      if (prev === undefined) continue;
      const hist = r.hist.get(n.id) ?? [];
      hist.push(Math.max(0, total - prev));
      if (hist.length > HISTORY) hist.shift();
      r.hist.set(n.id, hist);
    }
  }
  return r.hist;
}

/** The soft state of each node by id. */
export const byId = (s: NetworkSoftState | undefined): Map<string, NodeSoftState> => new Map((s?.nodes ?? []).map((n) => [n.id, n]));
