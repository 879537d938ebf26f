// One node: endpoint, listen port, version applied, traffic, and each peer with its path and
// latest handshake.
import React from 'react';
import { Box, Text } from 'ink';
import { useData } from '../hooks.ts';
import { fit, headerRow, note, row, type ScreenProps } from '../screen.ts';
import { STATUS_COLOR, age, bytes, sparkline } from '../format.ts';
import { useStatus } from './nodes.ts';
import { useTraffic } from '../traffic.ts';

const h = React.createElement;

export const NODE_KEYS: [string, string][] = [['Esc', 'back']];

export function NodeDetailScreen(p: ScreenProps & { network: string; node: string }): React.ReactElement {
  const node = useData(() => p.source.showNode(p.network, p.node), [p.network, p.node], p.tick);
  const status = useStatus(p);
  const traffic = useTraffic(status.data);
  const nodes = useData(() => p.source.listNodes(p.network), [p.network], p.tick);
  if (!node.data) return note(node.error ? `cannot show ${p.node}: ${node.error.message}` : 'loading…', node.error ? 'red' : undefined);
  const n = node.data;
  const s = status.data?.nodes.find((x) => x.id === n.id);
  const st = s?.status ?? n.status;
  const paths = new Map((n.peers ?? []).map((x) => [x.name, x]));
  const byKey = new Map((nodes.data ?? []).map((x) => [x.publicKey, x]));
  const peers = (nodes.data ?? []).filter((x) => x.id !== n.id).map((x) => {
    const hs = s?.handshakes.find((y) => y.publicKey === x.publicKey || y.peer === x.name || y.peer === x.id);
    return { name: x.name, address: x.address, path: paths.get(x.name)?.path ?? '-', endpoint: paths.get(x.name)?.endpoint ?? x.endpoint ?? '-', handshake: hs?.at ?? null };
  });
  for (const hs of s?.handshakes ?? []) {
    if (!byKey.has(hs.publicKey) && !peers.some((x) => x.name === hs.peer)) peers.push({ name: hs.peer, address: '', path: 'client', endpoint: '-', handshake: hs.at });
  }
  const cols = fit([
    { title: 'PEER', width: 16 },
    { title: 'ADDRESS', width: 15 },
    { title: 'PATH', width: 8 },
    { title: 'ENDPOINT', width: 21, optional: 1 },
    { title: 'HANDSHAKE', width: 9, right: true },
  ], p.columns);
  const kv = (k: string, val: string, color?: string) => h(Text, { key: k }, h(Text, { dimColor: true }, k.padEnd(12)), h(Text, color ? { color } : {}, val));
  return h(Box, { flexDirection: 'column' },
    h(Text, { bold: true }, `${n.name}.${p.network}  `, h(Text, { color: STATUS_COLOR[st] ?? undefined }, st)),
    kv('address', n.address),
    kv('endpoint', `${s?.endpoint ?? n.endpoint ?? '-'}  (listen port ${s?.listenPort ?? n.listenPort})`),
    kv('contact', `${age(s?.lastContact ?? n.lastCheckin, p.now)} ago · version applied ${s?.version ?? '?'}`),
    kv('traffic', `rx ${s ? bytes(s.rxBytes) : '-'} tx ${s ? bytes(s.txBytes) : '-'} `, undefined),
    h(Text, { color: 'cyan' }, ' '.repeat(12) + sparkline(traffic.get(n.id) ?? [], Math.min(30, p.columns - 14))),
    kv('gateway', [n.ingress ? 'ingress' : '', n.egressRanges.length ? `egress ${n.egressRanges.join(',')}${n.egressNat ? ' (NAT)' : ''}` : ''].filter(Boolean).join(', ') || 'no'),
    kv('public key', n.publicKey),
    headerRow(cols),
    ...peers.slice(0, Math.max(1, p.height - 10)).map((x) => row(x.name, cols, {
      PEER: x.name, ADDRESS: x.address, PATH: x.path, ENDPOINT: x.endpoint ?? '-',
      HANDSHAKE: [age(x.handshake, p.now), x.handshake && p.now - Date.parse(x.handshake) < 180_000 ? 'green' : 'red'],
    }, false)),
    peers.length === 0 ? note('no peers') : null);
}
