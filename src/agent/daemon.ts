// `meshctl agent`: one process for every joined network. Starts a worker per network, picks up
// networks joined or left while it runs, and serves the local control socket.
import { MeshError } from '../core/errors.ts';
import { joinedNetworks } from './state.ts';
import { NetworkWorker, type WorkerOptions } from './worker.ts';
import { serveControl, socketPath } from './control.ts';
import { status, type AgentEnv, type CheckInResult } from './node.ts';

export interface RunningAgent {
  workers: Map<string, NetworkWorker>;
  socket: string;
  /** Starts workers for new networks and stops those of networks left. */
  rescan(): Promise<void>;
  stop(): Promise<void>;
}

export async function startAgent(env: AgentEnv, opts: WorkerOptions & { rescanMs?: number } = {}): Promise<RunningAgent> {
  const workers = new Map<string, NetworkWorker>();
  const rescan = async () => {
    const nets = new Set(await joinedNetworks(env.configDir));
    for (const [n, w] of workers) {
      if (!nets.has(n)) {
        w.stop();
        await w.dropDns();
        workers.delete(n);
        env.log?.(`${n}: no longer joined; stopped`);
      }
    }
    for (const n of nets) {
      if (workers.has(n)) continue;
      const w = new NetworkWorker(env, n, opts);
      workers.set(n, w);
      await w.start().catch((err) => env.log?.(`${n}: starting: ${(err as Error).message}`));
    }
  };
  await rescan();
  const timer = setInterval(() => void rescan().catch(() => {}), opts.rescanMs ?? 2000);
  const socket = socketPath(env.configDir);
  const closeControl = await serveControl(socket, {
    status: (network) => status(env, network || undefined, (n) => workers.get(n)?.stateInput()),
    resync: async (network): Promise<CheckInResult[]> => {
      await rescan();
      const targets = network ? [network] : [...workers.keys()];
      const out: CheckInResult[] = [];
      for (const n of targets) {
        const w = workers.get(n);
        if (!w) throw new MeshError('NOT_JOINED', `this node has not joined network "${n}"`, { hint: 'Join first: meshctl join -t TOKEN' });
        out.push(await w.checkIn());
      }
      return out;
    },
  });
  env.log?.(`agent running for ${workers.size} network(s); control socket ${socket}`);
  return {
    workers,
    socket,
    rescan,
    stop: async () => {
      clearInterval(timer);
      for (const w of workers.values()) w.stop();
      await closeControl();
      // Names stay in the hosts file and resolved (they are still right); the responder stops.
      await env.dns?.close();
    },
  };
}
