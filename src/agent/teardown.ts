// What the agent undoes when the controller says a network is gone for this node (the network
// was deleted, or an admin deleted the node): its local state, its WireGuard interface, and
// whatever else was set up for that network on this host (hooks: DNS and hosts-file changes
// register here). Only on the controller's word (NODE_REMOVED, over the pinned TLS channel):
// an unknown credential (UNAUTHENTICATED) could be a controller restored from an old backup, and
// takes nothing down.
import { MeshError } from '../core/errors.ts';
import { removeWireGuardInterface } from '../platform/wireguard.ts';
import { removeState, type NetworkState } from './state.ts';
import type { AgentEnv } from './node.ts';

/** Undoes one thing a network set up on this host; must be idempotent (it may run twice). */
export type TeardownHook = (env: AgentEnv, st: NetworkState) => Promise<void>;

const hooks: { name: string; fn: TeardownHook }[] = [];

/** Registers `fn` (named for logs) to run whenever a network is torn down or left. */
export function onNetworkTeardown(name: string, fn: TeardownHook): void {
  if (!hooks.some((h) => h.name === name)) hooks.push({ name, fn });
}

/** Runs every registered hook for `st`; one failing does not stop the others. Returns the failures, described. */
export async function runTeardownHooks(env: AgentEnv, st: NetworkState): Promise<string[]> {
  const failed: string[] = [];
  for (const h of hooks) {
    await h.fn(env, st).catch((e: unknown) => void failed.push(`${h.name}: ${(e as Error).message}`));
  }
  return failed;
}

/** True when `err` is the controller saying this node is no longer in the network. */
export const isRemoval = (err: unknown): err is MeshError => err instanceof MeshError && err.code === 'NODE_REMOVED';

/**
 * Tears down network `st.network` on this host because the controller said `why`: state first
 * (so a running agent does not bring the interface back), then the interface (only the one this
 * state recorded, only if it is WireGuard), then the hooks. Logs what it did.
 */
export async function teardownNetwork(env: AgentEnv, st: NetworkState, why: string): Promise<void> {
  await removeState(env.configDir, st.network);
  let iface = `removed interface ${st.interface}`;
  try {
    if (!(await removeWireGuardInterface(env.runner, st.interface))) iface = `interface ${st.interface} was already gone`;
  } catch (e) {
    iface = `could not remove interface ${st.interface}: ${(e as Error).message}`;
  }
  const failed = await runTeardownHooks(env, st);
  env.log?.(`${st.network}: the controller says ${why}; ${iface} and this network's local state${failed.length ? `; clean-up steps that failed: ${failed.join('; ')}` : ''}`);
}
