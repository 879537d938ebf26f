// A network's DNS records: the nodes' own names and custom records. Add and remove custom ones.
import React from 'react';
import { Box, Text, useInput } from 'ink';
import { useCursor, useData } from '../hooks.ts';
import { fit, headerRow, note, row, type ScreenProps } from '../screen.ts';
import { matches } from '../format.ts';
import * as v from '../validate.ts';

const h = React.createElement;

export const DNS_KEYS: [string, string][] = [['n', 'add record'], ['d', 'remove'], ['Tab', 'next tab']];

export function DnsScreen(p: ScreenProps & { network: string }): React.ReactElement {
  const recs = useData(() => p.source.listDns(p.network), [p.network], p.tick);
  const list = (recs.data ?? []).filter((r) => matches(p.filter, r.name, r.address));
  const win = p.height - 2;
  const { cursor, offset } = useCursor(list.length, win, p.active);
  useInput((input, key) => {
    const sel = list[cursor];
    if (input === 'n') {
      p.ui.form({
        title: `New DNS record in ${p.network}`,
        fields: [
          { key: 'name', label: 'name', placeholder: 'printer', validate: v.label('record name') },
          { key: 'address', label: 'address (IPv4, or a name for a CNAME)', validate: v.recordAddress() },
        ],
        onSubmit: async (f) => {
          const r = await p.source.addDns(p.network, f.name!, f.address!);
          p.ui.close();
          p.ui.say(`Added ${r.name} → ${r.address}.`);
        },
      });
    } else if (input === 'd' && sel) {
      if (sel.source !== 'custom') return p.ui.say(`${sel.name} is a node's own name: delete the node to remove it`);
      p.ui.confirm(`Remove DNS record ${sel.name} (${sel.address})?`, async () => {
        await p.source.removeDns(p.network, sel.name);
        p.ui.say(`Removed record ${sel.name}.`);
      });
    }
  }, { isActive: p.active });
  const cols = fit([
    { title: 'NAME', width: 24 },
    { title: 'TYPE', width: 5 },
    { title: 'ADDRESS', width: 24 },
    { title: 'SOURCE', width: 7 },
  ], p.columns);
  if (!recs.data) return note(recs.error ? `cannot list records: ${recs.error.message}` : 'loading records…', recs.error ? 'red' : undefined);
  if (list.length === 0) return note(p.filter ? `no record matches "${p.filter}"` : 'No records. Press n to add one.');
  return h(Box, { flexDirection: 'column' },
    headerRow(cols),
    ...list.slice(offset, offset + win).map((r, i) =>
      row(r.name, cols, { NAME: r.name, TYPE: r.type ?? 'A', ADDRESS: r.address, SOURCE: [r.source, r.source === 'custom' ? 'cyan' : ''] }, offset + i === cursor)),
    h(Text, { dimColor: true }, `${cursor + 1}/${list.length} records`));
}
