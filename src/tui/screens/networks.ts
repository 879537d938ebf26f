// The networks screen: every network with its range, domain and node counts by status.
import React from 'react';
import { Box, Text, useInput } from 'ink';
import type { MeshNode, Network } from '../../core/types.ts';
import { useCursor, useData } from '../hooks.ts';
import { fit, headerRow, note, row, type ScreenProps } from '../screen.ts';
import { matches } from '../format.ts';
import * as v from '../validate.ts';

const h = React.createElement;

export const NETWORKS_KEYS: [string, string][] = [['Enter', 'open'], ['n', 'new network'], ['L', 'audit log']];

export function NetworksScreen(p: ScreenProps): React.ReactElement {
  // Networks and keys are not in the event stream (nodes never see them): poll them too.
  const nets = useData(() => p.source.listNetworks(), [], p.tick, 2000);
  const nodes = useData(() => p.source.listNodes(), [], p.tick, 2000);
  const list = (nets.data ?? []).filter((n) => matches(p.filter, n.name, n.cidr, n.domain));
  const { cursor, offset } = useCursor(list.length, p.height - 2, p.active);
  const counts = (net: string) => {
    const c: Record<MeshNode['status'], number> = { healthy: 0, stale: 0, down: 0, pending: 0 };
    for (const n of nodes.data ?? []) if (n.network === net) c[n.status]++;
    return c;
  };
  useInput((input, key) => {
    const sel = list[cursor];
    if (key.return && sel) p.ui.open({ kind: 'network', network: sel.name, tab: 'nodes' });
    else if (input === 'n') {
      p.ui.form({
        title: 'New network',
        fields: [
          { key: 'name', label: 'name', placeholder: 'office', validate: v.networkName },
          { key: 'cidr', label: 'range', placeholder: '10.10.0.0/24', validate: v.networkRange },
        ],
        onSubmit: async (f) => {
          const n: Network = await p.source.createNetwork({ name: f.name!, cidr: f.cidr! });
          p.ui.close();
          p.ui.say(`Created network ${n.name} (${n.cidr}). Next: open it and press n on the keys tab for a join key.`);
        },
      });
    }
  }, { isActive: p.active });
  const cols = fit([
    { title: 'NETWORK', width: 16 },
    { title: 'RANGE', width: 18 },
    { title: 'DOMAIN', width: 16, optional: 1 },
    { title: 'HEALTHY', width: 7, right: true },
    { title: 'STALE', width: 5, right: true },
    { title: 'DOWN', width: 4, right: true },
    { title: 'PENDING', width: 7, right: true },
  ], p.columns);
  if (!nets.data) return note(nets.error ? `cannot list networks: ${nets.error.message}` : 'loading networks…', nets.error ? 'red' : undefined);
  if (list.length === 0) return note(p.filter ? `no network matches "${p.filter}"` : 'No networks yet. Press n to create one.');
  return h(Box, { flexDirection: 'column' },
    headerRow(cols),
    ...list.slice(offset, offset + p.height - 2).map((n, i) => {
      const c = counts(n.name);
      return row(n.name, cols, {
        NETWORK: n.name,
        RANGE: n.cidr,
        DOMAIN: n.domain,
        HEALTHY: [String(c.healthy), c.healthy ? 'green' : ''],
        STALE: [String(c.stale), c.stale ? 'yellow' : ''],
        DOWN: [String(c.down), c.down ? 'red' : ''],
        PENDING: [String(c.pending), c.pending ? 'cyan' : ''],
      }, offset + i === cursor);
    }),
    list.length > p.height - 2 ? h(Text, { dimColor: true }, `${cursor + 1}/${list.length}`) : null);
}
