// A dashboard on the fake source with a small mesh: networks office and lab; in office n1 and n2
// healthy, n3 stale, p1 pending approval.
import './force-color.ts';
import React from 'react';
import { App, type AppProps } from '../../src/tui/app.ts';
import { newNetwork } from '../../src/core/network.ts';
import { fakeSource, type FakeSource } from './fake-source.ts';
import { drive, type Driver } from './ink.ts';

export function mesh(): FakeSource {
  const s = fakeSource();
  s.networks.push(newNetwork({ name: 'office', cidr: '10.10.0.0/24' }), newNetwork({ name: 'lab', cidr: '10.20.0.0/24', manualApproval: true }));
  s.addNode('office', 'n1');
  s.addNode('office', 'n2');
  s.addNode('office', 'n3', 'stale');
  s.addNode('office', 'p1', 'pending');
  return s;
}

/** Renders the dashboard at 80x24 (or `size`) on `s`, with fast timers. */
export function dash(s: FakeSource, props: Partial<AppProps> = {}): Driver {
  return drive(React.createElement(App, { source: s, size: { columns: 80, rows: 24 }, settleMs: 20, retryMs: 100, ...props }));
}

/** Every line of the frame fits 80 columns and the frame 24 rows. */
export function fits(frame: string, columns = 80, rows = 24): string | null {
  const lines = frame.split('\n');
  if (lines.length > rows) return `${lines.length} lines > ${rows}`;
  const wide = lines.find((l) => [...l].length > columns);
  return wide ? `line wider than ${columns}: ${JSON.stringify(wide)}` : null;
}
