// A network's nodes: status (coloured), last contact, handshake age and traffic with a sparkline,
// live. Actions: approve, delete (confirmed), open the node's detail.
import React from 'react';
import { Box, Text, useInput } from 'ink';
import type { MeshNode } from '../../core/types.ts';
import { useCursor, useData } from '../hooks.ts';
import { fit, headerRow, note, row, type ScreenProps } from '../screen.ts';
import { STATUS_COLOR, age, bytes, latestHandshake, matches, sparkline } from '../format.ts';
import { byId, useTraffic } from '../traffic.ts';
import type { NetworkSoftState } from '../source.ts';

const h = React.createElement;

export const NODES_KEYS: [string, string][] = [['Enter', 'detail'], ['a', 'approve'], ['d', 'delete'], ['Tab', 'next tab']];

/** Polls the network's soft state every second while shown (the sparkline's samples). */
export const useStatus = (p: ScreenProps & { network: string }) => useData<NetworkSoftState>(() => p.source.networkStatus(p.network), [p.network], p.tick, 1000);

export function NodesScreen(p: ScreenProps & { network: string }): React.ReactElement {
  const nodes = useData(() => p.source.listNodes(p.network), [p.network], p.tick);
  const status = useStatus(p);
  const traffic = useTraffic(status.data);
  // Kept between key presses: at 1,000 nodes a frame should cost the visible rows, not the list.
  const soft = React.useMemo(() => byId(status.data), [status.data]);
  const list = React.useMemo(() => (nodes.data ?? []).filter((n) => matches(p.filter, n.name, n.address, n.endpoint, soft.get(n.id)?.status ?? n.status)), [nodes.data, soft, p.filter]);
  const win = p.height - 2;
  const { cursor, offset } = useCursor(list.length, win, p.active);
  useInput((input, key) => {
    const sel: MeshNode | undefined = list[cursor];
    if (!sel) return;
    if (key.return) p.ui.open({ kind: 'node', network: p.network, node: sel.name });
    else if (input === 'a') {
      if (sel.status !== 'pending') return p.ui.say(`${sel.name} is not pending approval (${sel.status})`);
      void p.source.approveNode(p.network, sel.name).then(
        () => p.ui.say(`Approved ${sel.name}.`),
        (err: Error) => p.ui.say(`Approving ${sel.name} refused: ${err.message}`),
      );
    } else if (input === 'd') {
      p.ui.confirm(`Delete node ${sel.name} (${sel.address}) from ${p.network}?`, async () => {
        await p.source.deleteNode(p.network, sel.name);
        p.ui.say(`Deleted node ${sel.name}.`);
      });
    }
  }, { isActive: p.active });
  const cols = fit([
    { title: 'NODE', width: 14 },
    { title: 'ADDRESS', width: 15 },
    { title: 'ENDPOINT', width: 21, optional: 2 },
    { title: 'STATUS', width: 7 },
    { title: 'CONTACT', width: 7, right: true },
    { title: 'HSHAKE', width: 6, right: true },
    { title: 'RX', width: 6, right: true, optional: 1 },
    { title: 'TX', width: 6, right: true, optional: 1 },
    { title: 'TRAFFIC', width: 10 },
  ], p.columns);
  if (!nodes.data) return note(nodes.error ? `cannot list nodes: ${nodes.error.message}` : 'loading nodes…', nodes.error ? 'red' : undefined);
  if (list.length === 0) return note(p.filter ? `no node matches "${p.filter}"` : `No nodes in ${p.network} yet. Make a key on the keys tab, then run meshctl join -t TOKEN on a node.`);
  return h(Box, { flexDirection: 'column' },
    headerRow(cols),
    ...list.slice(offset, offset + win).map((n, i) => {
      const s = soft.get(n.id);
      const st = s?.status ?? n.status;
      return row(n.id, cols, {
        NODE: n.name,
        ADDRESS: n.address,
        ENDPOINT: s?.endpoint ?? n.endpoint ?? '-',
        STATUS: [st, STATUS_COLOR[st] ?? ''],
        CONTACT: age(s?.lastContact ?? n.lastCheckin, p.now),
        HSHAKE: s ? age(latestHandshake(s), p.now) : '-',
        RX: s ? bytes(s.rxBytes) : '-',
        TX: s ? bytes(s.txBytes) : '-',
        TRAFFIC: [sparkline(traffic.get(n.id) ?? [], 10), 'cyan'],
      }, offset + i === cursor);
    }),
    h(Text, { dimColor: true }, `${cursor + 1}/${list.length} nodes${status.error ? ` · soft state unavailable: ${status.error.message}` : ''}`));
}
