// The pair matrix: node x node, whether each pair has a recent WireGuard handshake (from the
// handshakes the nodes report), so a broken link between two healthy nodes shows at a glance.
import React from 'react';
import { Box, Text } from 'ink';
import { useData } from '../hooks.ts';
import { note, type ScreenProps } from '../screen.ts';
import { STATUS_COLOR, cell, matches, pairState, type PairNode, type PairState } from '../format.ts';
import { useStatus } from './nodes.ts';

const h = React.createElement;

export const MATRIX_KEYS: [string, string][] = [['Tab', 'next tab'], ['/', 'filter nodes']];

const GLYPH: Record<PairState, [string, string | undefined]> = { ok: ['●', 'green'], broken: ['✗', 'red'], unknown: ['·', undefined] };

export function MatrixScreen(p: ScreenProps & { network: string }): React.ReactElement {
  const nodes = useData(() => p.source.listNodes(p.network), [p.network], p.tick);
  const status = useStatus(p);
  if (!nodes.data) return note(nodes.error ? `cannot list nodes: ${nodes.error.message}` : 'loading…', nodes.error ? 'red' : undefined);
  const soft = new Map((status.data?.nodes ?? []).map((n) => [n.id, n]));
  const all: PairNode[] = nodes.data
    .map((n) => ({ id: n.id, name: n.name, publicKey: n.publicKey, status: soft.get(n.id)?.status ?? n.status, handshakes: soft.get(n.id)?.handshakes ?? [] }))
    .sort((a, b) => a.name.localeCompare(b.name));
  const list = all.filter((n) => matches(p.filter, n.name));
  if (list.length < 2) return note(`The pair matrix needs two nodes or more${p.filter ? ` matching "${p.filter}"` : ''}.`);
  if (!status.data) return note(status.error ? `cannot read the network's status: ${status.error.message}` : 'loading handshakes…', status.error ? 'red' : undefined);
  const labelW = Math.min(18, Math.max(...list.map((n) => n.name.length)) + String(list.length).length + 2);
  const fitCols = Math.max(1, Math.floor((p.columns - labelW - 8) / 2));
  const broken: string[] = [];
  for (let i = 0; i < list.length; i++) for (let j = i + 1; j < list.length; j++) if (pairState(list[i]!, list[j]!, p.now) === 'broken') broken.push(`${list[i]!.name} ✗ ${list[j]!.name}`);
  const legendRows = 2 + (broken.length ? 1 : 0);
  const shown = list.slice(0, Math.min(fitCols, Math.max(1, p.height - 1 - legendRows)));
  const head = ' '.repeat(labelW + 8) + shown.map((_, j) => String(j + 1).padStart(2).slice(-2)).join('');
  return h(Box, { flexDirection: 'column' },
    h(Text, { dimColor: true }, head),
    ...shown.map((a, i) =>
      h(Box, { key: a.id },
        h(Text, null, cell(`${i + 1} ${a.name}`, labelW)),
        h(Text, { color: STATUS_COLOR[a.status] ?? undefined }, cell(a.status, 8)),
        ...shown.map((b, j) => {
          if (i === j) return h(Text, { key: b.id, dimColor: true }, ' ╲');
          const [g, color] = GLYPH[pairState(a, b, p.now)];
          return h(Text, { key: b.id, ...(color ? { color } : { dimColor: true }) }, ` ${g}`);
        }))),
    h(Text, { dimColor: true, wrap: 'truncate-end' }, `● handshake <3 min  ✗ broken (both up, none)  · n/a${shown.length < list.length ? `  showing ${shown.length}/${list.length}: filter with /` : ''}`),
    broken.length ? h(Text, { color: 'red', wrap: 'truncate-end' }, `broken pairs (${broken.length}): ${broken.join(', ')}`) : h(Text, { color: 'green' }, 'every pair of up nodes has a recent handshake'));
}
