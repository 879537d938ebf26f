// Gateways and external clients of a network: which nodes are ingress/egress gateways with their
// ranges, and each client with its gateway and last handshake. The key pair of a new client is
// made here (as `meshctl clients create` does); its config is shown once, with a QR code.
import React from 'react';
import { Box, Text, useInput } from 'ink';
import { useCursor, useData } from '../hooks.ts';
import { fit, headerRow, note, row, type ScreenProps } from '../screen.ts';
import { age, matches } from '../format.ts';
import { useStatus } from './nodes.ts';
import * as v from '../validate.ts';

const h = React.createElement;

export const GATEWAYS_KEYS: [string, string][] = [['i', 'ingress on/off'], ['e', 'egress'], ['E', 'egress off'], ['n', 'new client'], ['Tab', 'next tab']];

export function GatewaysScreen(p: ScreenProps & { network: string }): React.ReactElement {
  const nodes = useData(() => p.source.listNodes(p.network), [p.network], p.tick);
  const clients = useData(() => p.source.listClients(p.network), [p.network], p.tick, 2000);
  const status = useStatus(p);
  const list = (nodes.data ?? []).filter((n) => matches(p.filter, n.name));
  const cl = clients.data ?? [];
  const clientRows = Math.min(cl.length + 1, Math.max(2, Math.floor(p.height / 3)));
  const win = Math.max(1, p.height - 3 - clientRows);
  const { cursor, offset } = useCursor(list.length, win, p.active);
  useInput((input) => {
    const sel = list[cursor];
    if (!sel) return;
    if (input === 'i') {
      if (sel.ingress) {
        p.ui.confirm(`Stop ${sel.name} being an ingress gateway? Its external clients lose their way in.`, async () => {
          await p.source.setIngress(p.network, sel.name, false);
          p.ui.say(`${sel.name} is no longer an ingress gateway.`);
        });
      } else {
        void p.source.setIngress(p.network, sel.name, true).then(() => p.ui.say(`${sel.name} is now an ingress gateway.`), (err: Error) => p.ui.say(`refused: ${err.message}`));
      }
    } else if (input === 'e') {
      p.ui.form({
        title: `Egress gateway ${sel.name}: ranges reached through it`,
        fields: [
          { key: 'ranges', label: 'ranges', initial: sel.egressRanges.join(','), placeholder: '192.168.7.0/24', validate: v.ranges },
          { key: 'nat', label: 'NAT (y/n)', initial: sel.egressNat ? 'y' : 'n', validate: (x) => (/^[yn]$/i.test(x) ? null : 'y or n') },
        ],
        onSubmit: async (f) => {
          await p.source.setEgress(p.network, sel.name, { ranges: f.ranges!.split(',').map((r) => r.trim()), nat: /^y$/i.test(f.nat!) });
          p.ui.close();
          p.ui.say(`${sel.name} is an egress gateway for ${f.ranges}.`);
        },
      });
    } else if (input === 'E' && sel.egressRanges.length) {
      p.ui.confirm(`Stop ${sel.name} being an egress gateway for ${sel.egressRanges.join(',')}?`, async () => {
        await p.source.setEgress(p.network, sel.name, null);
        p.ui.say(`${sel.name} is no longer an egress gateway.`);
      });
    } else if (input === 'n') {
      p.ui.form({
        title: `New external client in ${p.network} (its key pair is made here)`,
        fields: [
          { key: 'name', label: 'name', placeholder: 'phone', validate: v.label('client name') },
          { key: 'gateway', label: 'ingress gateway', initial: sel.ingress ? sel.name : (list.find((n) => n.ingress)?.name ?? ''), validate: v.label('gateway') },
        ],
        onSubmit: async (f) => {
          const c = await p.source.createClient(p.network, { name: f.name!, gateway: f.gateway! });
          p.ui.close();
          p.ui.secret(`WireGuard config of client ${c.name} (holds its private key)`, c.config ?? '', c.config);
          p.ui.say(`Created client ${c.name} (${c.address}) behind ${c.gateway}.`);
        },
      });
    }
  }, { isActive: p.active });
  if (!nodes.data) return note(nodes.error ? `cannot list nodes: ${nodes.error.message}` : 'loading…', nodes.error ? 'red' : undefined);
  const ncols = fit([{ title: 'NODE', width: 16 }, { title: 'INGRESS', width: 8 }, { title: 'EGRESS RANGES', width: 34 }, { title: 'NAT', width: 4 }], p.columns);
  const ccols = fit([{ title: 'CLIENT', width: 16 }, { title: 'ADDRESS', width: 15 }, { title: 'GATEWAY', width: 16 }, { title: 'ENABLED', width: 7 }, { title: 'HANDSHAKE', width: 9, right: true }], p.columns);
  const soft = status.data?.nodes ?? [];
  const lastHs = (publicKey: string) => {
    let best: string | null = null;
    for (const n of soft) for (const x of n.handshakes) if (x.publicKey === publicKey && x.at && (!best || x.at > best)) best = x.at;
    return best;
  };
  return h(Box, { flexDirection: 'column' },
    headerRow(ncols),
    ...list.slice(offset, offset + win).map((n, i) => row(n.id, ncols, {
      NODE: n.name,
      INGRESS: n.ingress ? ['yes', 'green'] : 'no',
      'EGRESS RANGES': n.egressRanges.length ? [n.egressRanges.join(','), 'green'] : '-',
      NAT: n.egressRanges.length ? (n.egressNat ? 'yes' : 'no') : '',
    }, offset + i === cursor)),
    h(Text, { dimColor: true }, list.length ? `${cursor + 1}/${list.length} nodes` : 'no nodes'),
    headerRow(ccols),
    ...(cl.length
      ? cl.slice(0, clientRows - 1).map((c) => row(c.name, ccols, { CLIENT: c.name, ADDRESS: c.address, GATEWAY: c.gateway, ENABLED: c.enabled ? ['yes', 'green'] : ['no', 'red'], HANDSHAKE: age(lastHs(c.publicKey), p.now) }, false))
      : [note(clients.error ? `cannot list clients: ${clients.error.message}` : 'No external clients. Make a node an ingress gateway (i), then press n.')]));
}
