// The node side of the dashboard: where a local agent runs and no admin credentials are found,
// this node's networks, interface, peers and handshakes from the agent's control socket, live.
import React from 'react';
import { Box, Text, useApp, useInput } from 'ink';
import type { AgentSource } from './source.ts';
import type { NetworkStatus } from '../agent/node.ts';
import { useTermSize, type Size } from './hooks.ts';
import { fit, headerRow, row } from './screen.ts';
import { age, bytes } from './format.ts';
import { Footer } from './widgets.ts';

const h = React.createElement;

export function AgentApp(p: { source: AgentSource; size?: Size; pollMs?: number }): React.ReactElement {
  const { exit } = useApp();
  const size = useTermSize(p.size);
  const [data, setData] = React.useState<NetworkStatus[] | undefined>(undefined);
  const [error, setError] = React.useState<Error | undefined>(undefined);
  const [now, setNow] = React.useState(Date.now());
  React.useEffect(() => {
    let live = true;
    const load = () => p.source.status().then((d) => { if (live) { setData(d); setError(undefined); setNow(Date.now()); } }, (err: Error) => { if (live) setError(err); });
    void load();
    const t = setInterval(load, p.pollMs ?? 1000);
    return () => {
      live = false;
      clearInterval(t);
    };
  }, [p.source, p.pollMs]);
  useInput((input) => {
    if (input === 'q') exit();
  });
  const cols = fit([
    { title: 'PEER', width: 12 },
    { title: 'ADDRESS', width: 15 },
    { title: 'ENDPOINT', width: 18, optional: 1 },
    { title: 'PATH', width: 7 },
    { title: 'HANDSHAKE', width: 9, right: true },
    { title: 'RX', width: 6, right: true },
    { title: 'TX', width: 6, right: true },
  ], size.columns);
  const body: React.ReactElement[] = [];
  for (const n of data ?? []) {
    body.push(h(Text, { key: `${n.network}-h`, bold: true }, `${n.network}  ${n.interface} ${n.address} `, h(Text, { color: n.up ? 'green' : 'red' }, n.up ? 'up' : 'DOWN'), h(Text, { dimColor: true }, `  ${n.state}: ${n.detail}`)));
    body.push(h(Box, { key: `${n.network}-c` }, headerRow(cols)));
    for (const x of n.peers) {
      const fresh = x.latestHandshake && now - Date.parse(x.latestHandshake) < 180_000;
      body.push(row(`${n.network}-${x.name}`, cols, {
        PEER: x.name, ADDRESS: x.address, ENDPOINT: x.endpoint ?? '-', PATH: x.path,
        HANDSHAKE: [age(x.latestHandshake, now), fresh ? 'green' : 'red'], RX: bytes(x.rxBytes), TX: bytes(x.txBytes),
      }, false));
    }
    if (n.peers.length === 0) body.push(h(Text, { key: `${n.network}-0`, dimColor: true }, '  no peers'));
  }
  return h(Box, { flexDirection: 'column', width: size.columns },
    h(Box, { justifyContent: 'space-between' },
      h(Text, { bold: true }, 'meshctl dashboard · this node'),
      error ? h(Text, { color: 'red', bold: true }, 'agent unreachable, retrying…') : h(Text, { color: 'green' }, `● ${p.source.label}`)),
    h(Box, { flexDirection: 'column', height: Math.max(3, size.rows - 3), overflow: 'hidden' },
      data === undefined ? h(Text, { dimColor: true }, error ? error.message : 'asking the agent…') : data.length === 0 ? h(Text, null, 'Not joined to any network. Join with: meshctl join -t TOKEN') : body),
    h(Text, { dimColor: true }, 'This node\'s own view (no admin credentials here). The whole mesh: meshctl login'),
    h(Footer, { keys: [['q', 'quit']], columns: size.columns }));
}
