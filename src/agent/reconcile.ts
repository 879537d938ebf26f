// desired (the node's view) -> WireGuard config -> applied by diff through the platform adapter.
import type { NodeView } from '../core/view.ts';
import type { WgChange, WgConfig } from '../core/wg-diff.ts';
import type { Runner } from '../platform/runner.ts';
import { setConfig, plan } from '../platform/wireguard.ts';

/** The interface config a view asks for. */
export function wgConfigOf(view: NodeView, iface: string, privateKeyPath: string, listenPort: number, previous: NodeView | null = null): WgConfig {
  return {
    ...(previous ? { previousEndpoints: Object.fromEntries(previous.peers.map((p) => [p.publicKey, p.endpoint || null])) } : {}),
    interface: iface,
    privateKeyPath,
    listenPort,
    address: `${view.self.address}/${view.self.prefixLength}`,
    peers: view.peers.map((p) => ({ publicKey: p.publicKey, allowedIps: p.allowedIps, endpoint: p.endpoint || null, keepalive: p.keepalive })),
  };
}

/** Makes the interface match the view; returns the changes made ([] when in step). */
export function reconcile(runner: Runner, cfg: WgConfig): Promise<WgChange[]> {
  return setConfig(runner, cfg);
}

/** The changes reconcile would make, without making them. */
export function dryRun(runner: Runner, cfg: WgConfig): Promise<WgChange[]> {
  return plan(runner, cfg);
}
