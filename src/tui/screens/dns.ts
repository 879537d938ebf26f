// A network's DNS records: the nodes' own names and custom records. Add and remove custom ones.
import type React from 'react';
import { useData } from '../hooks.ts';
import { fit, row, type ScreenProps } from '../screen.ts';
import { listBody, useAddRemove } from '../list-screen.ts';
import { matches } from '../format.ts';
import * as v from '../validate.ts';

export const DNS_KEYS: [string, string][] = [['n', 'add record'], ['d', 'remove'], ['Tab', 'next tab']];

export function DnsScreen(p: ScreenProps & { network: string }): React.ReactElement {
  const recs = useData(() => p.source.listDns(p.network), [p.network], p.tick);
  const list = (recs.data ?? []).filter((r) => matches(p.filter, r.name, r.address));
  const win = p.height - 2;
  const { cursor, offset } = useAddRemove(p, list, win, () => ({
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
  }), (sel) => sel.source !== 'custom' ? `${sel.name} is a node's own name: delete the node to remove it` : {
    ask: `Remove DNS record ${sel.name} (${sel.address})?`,
    run: async () => {
      await p.source.removeDns(p.network, sel.name);
      return `Removed record ${sel.name}.`;
    },
  });
  const cols = fit([
    { title: 'NAME', width: 24 },
    { title: 'TYPE', width: 5 },
    { title: 'ADDRESS', width: 24 },
    { title: 'SOURCE', width: 7 },
  ], p.columns);
  return listBody({
    noun: ['record', 'records'], loaded: recs, list, filter: p.filter, empty: 'No records. Press n to add one.', cols, cursor, offset, win,
    row: (r, selected) => row(r.name, cols, { NAME: r.name, TYPE: r.type ?? 'A', ADDRESS: r.address, SOURCE: [r.source, r.source === 'custom' ? 'cyan' : ''] }, selected),
  });
}
