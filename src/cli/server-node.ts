// `meshctl server --node`: the controller's host joins every network of the controller as a node,
// with its own agent in the same process, so that every NATed node has at least one public peer
// that observes its mapped endpoint from the first handshake. Composition only (controller and
// agent never import each other): a single-use join key per network the node has not joined,
// the agent's own join, and the agent daemon, which picks up networks joined later.
import { hostname } from 'node:os';
import type { RunningController } from '../controller/server.ts';
import type { AgentEnv } from '../agent/node.ts';
import type { RunningAgent } from '../agent/daemon.ts';
import { isDnsLabel } from '../core/network.ts';

export interface ServerNode {
  /** Joins networks created since the last call (also on a timer). */
  sync(): Promise<string[]>;
  stop(): Promise<void>;
}

/** The node's name: `name`, else the host name cut to a DNS label, else "controller". */
export function serverNodeName(name?: string): string {
  if (name) return name;
  const h = hostname().split('.')[0]!.toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/^-+|-+$/g, '').slice(0, 63);
  return isDnsLabel(h) ? h : 'controller';
}

/** Starts the controller's own node for every network; `everyMs` is how often new networks are looked for. */
export async function startServerNode(ctl: RunningController, env: AgentEnv, o: { name: string; everyMs?: number }): Promise<ServerNode> {
  const { join } = await import('../agent/node.ts');
  const { joinedNetworks } = await import('../agent/state.ts');
  const { startAgent } = await import('../agent/daemon.ts');
  let busy: Promise<string[]> = Promise.resolve([]);
  const syncOnce = async (): Promise<string[]> => {
    const joined = new Set(await joinedNetworks(env.configDir));
    const added: string[] = [];
    for (const net of await ctl.ctx.store.listNetworks()) {
      if (joined.has(net.name)) continue;
      try {
        const key = await ctl.admin.createKey(net.name, { name: `server-node-${Date.now().toString(36)}`, uses: 1, expires: '10m' }, 'admin:(server --node)');
        await join(env, { token: key.token, name: o.name });
        added.push(net.name);
        env.log?.(`${net.name}: the controller's host joined as node ${o.name}`);
      } catch (err) {
        env.log?.(`${net.name}: joining as the controller's node: ${(err as Error).message}`);
      }
    }
    return added;
  };
  const sync = () => (busy = busy.then(syncOnce, syncOnce));
  await sync();
  const agent: RunningAgent = await startAgent(env);
  const timer = setInterval(() => void sync().then((added) => (added.length ? agent.rescan() : undefined)).catch(() => {}), o.everyMs ?? 5000);
  timer.unref();
  return {
    sync: async () => {
      const added = await sync();
      if (added.length) await agent.rescan();
      return added;
    },
    stop: async () => {
      clearInterval(timer);
      await busy.catch(() => {});
      await agent.stop();
    },
  };
}
