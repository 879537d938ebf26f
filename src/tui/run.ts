// Starts the dashboard on the terminal: the admin view when admin credentials are found, else
// the node's own view when a local agent answers. Loaded only by `meshctl dashboard` (it pulls
// in Ink and React).
import './live-terminal.ts'; // before Ink: see there
import React from 'react';
import { render } from 'ink';
import { existsSync } from 'node:fs';
import { MeshError } from '../core/errors.ts';
import type { AdminClient } from '../cli/admin-client.ts';
import { callAgent } from '../agent/control.ts';
import type { NetworkStatus } from '../agent/node.ts';
import { adminSource } from './admin-source.ts';
import { App } from './app.ts';
import { AgentApp } from './agent-app.ts';

const ALT_ON = '\x1b[?1049h\x1b[H';
const ALT_OFF = '\x1b[?1049l';

export interface DashboardOptions {
  client: AdminClient;
  /** The local agent's control socket (the node-side view). */
  agentSocket: string;
  stdout?: NodeJS.WriteStream;
  stdin?: NodeJS.ReadStream;
}

/** Which view to show: admin when credentials resolve; else the node's when its agent socket exists. */
async function pickView(o: DashboardOptions): Promise<React.ReactElement> {
  try {
    const r = await o.client.resolve();
    return React.createElement(App, { source: adminSource(o.client, r.base) });
  } catch (err) {
    if (err instanceof MeshError && err.code === 'UNAUTHENTICATED' && existsSync(o.agentSocket)) {
      const source = { label: `agent ${o.agentSocket}`, status: async () => (await callAgent<NetworkStatus[]>(o.agentSocket, 'Status', '')) ?? [] };
      return React.createElement(AgentApp, { source });
    }
    throw err;
  }
}

/** Runs until the user quits (q, Ctrl-C); the terminal is restored whatever happens. */
export async function runDashboard(o: DashboardOptions): Promise<void> {
  const stdout = o.stdout ?? process.stdout;
  const view = await pickView(o);
  stdout.write(ALT_ON);
  const restore = () => stdout.write(ALT_OFF);
  const onSignal = () => {
    app.unmount();
  };
  const app = render(view, { stdout, ...(o.stdin ? { stdin: o.stdin } : {}), exitOnCtrlC: true, patchConsole: true });
  process.once('SIGTERM', onSignal);
  process.once('SIGHUP', onSignal);
  try {
    await app.waitUntilExit();
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onSignal);
    app.cleanup();
    restore();
  }
}
