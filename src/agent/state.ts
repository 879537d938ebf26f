// The agent's per-network state on disk (0600 in a 0700 directory): how to reach and prove
// itself to the controller, and the last desired state it applied (so the mesh can be rebuilt
// while the controller is down).
import { chmod, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { MeshError } from '../core/errors.ts';
import { isDnsLabel } from '../core/network.ts';
import type { NodeView } from '../core/view.ts';
import type { PathUpdate } from '../core/change.ts';
import { writeFileDurably } from '../platform/durable-file.ts';
import { keyFile, networksDir, stateFile } from './paths.ts';

export interface NetworkState {
  network: string;
  /** host:port of the controller's node API that answered last. */
  server: string;
  /** host:port of every controller's node API, in the join token's order (absent: only `server`). */
  servers?: string[];
  /** The controller's CA, verified against the join token's pin. */
  caPem: string;
  caPin: string;
  nodeId: string;
  /** "<node id>.<secret>": this node's credential. Secret. */
  credential: string;
  interface: string;
  listenPort: number;
  /** Stated endpoint ("" = let the controller observe it). */
  endpoint: string;
  /** The last view applied (cache). */
  view: NodeView | null;
  /** Where to reach each peer, as the controller last said (NAT traversal). */
  paths?: PathUpdate;
}

/** The WireGuard listen port: the one chosen here, else the one the controller assigned (0: none yet). */
export const listenPortOf = (st: NetworkState, view: NodeView | null = st.view): number => st.listenPort || view?.self.listenPort || 0;

export async function ensureConfigDir(configDir: string): Promise<void> {
  await mkdir(networksDir(configDir), { recursive: true, mode: 0o700 });
  await chmod(configDir, 0o700);
  await chmod(networksDir(configDir), 0o700);
}

export async function saveState(configDir: string, st: NetworkState): Promise<void> {
  await ensureConfigDir(configDir);
  await writeFileDurably(stateFile(configDir, st.network), Buffer.from(JSON.stringify(st, null, 2) + '\n'), 0o600);
}

export async function loadState(configDir: string, network: string): Promise<NetworkState> {
  const path = stateFile(configDir, network);
  if (!existsSync(path)) {
    throw new MeshError('NOT_JOINED', `this node has not joined network "${network}" (no ${path})`, {
      hint: 'Join first: meshctl join -t TOKEN (or check --config-dir)',
    });
  }
  try {
    return JSON.parse(await readFile(path, 'utf8')) as NetworkState;
  } catch (err) {
    throw new MeshError('CONFIG_INVALID', `reading ${path}: ${(err as Error).message}`, { hint: `Leave and join again: meshctl leave -n ${network}` });
  }
}

/** Every network this node has joined, by name. */
export async function joinedNetworks(configDir: string): Promise<string[]> {
  if (!existsSync(networksDir(configDir))) return [];
  return (await readdir(networksDir(configDir))).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).filter(isDnsLabel).sort();
}

export async function removeState(configDir: string, network: string): Promise<void> {
  await rm(stateFile(configDir, network), { force: true });
  await rm(keyFile(configDir, network), { force: true });
}
