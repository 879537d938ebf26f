// desired (the node's view) -> WireGuard config -> applied by diff through the platform adapter.
import type { NodeView } from '../core/view.ts';
import type { WgChange, WgConfig } from '../core/wg-diff.ts';
import type { Runner } from '../platform/runner.ts';
import { setConfig, plan } from '../platform/wireguard.ts';

/** The interface config a view asks for. `endpoints` overrides the view's endpoint per peer
 * (public key -> endpoint, or null to keep what WireGuard has): NAT traversal's choice, which is
 * enforced as given (the roaming rule of `previous` applies to the other peers only). */
export function wgConfigOf(view: NodeView, iface: string, privateKeyPath: string, listenPort: number, previous: NodeView | null = null, endpoints?: ReadonlyMap<string, string | null>): WgConfig {
  return {
    ...(previous ? { previousEndpoints: Object.fromEntries(previous.peers.filter((p) => !endpoints?.has(p.publicKey)).map((p) => [p.publicKey, p.endpoint || null])) } : {}),
    interface: iface,
    privateKeyPath,
    listenPort,
    address: `${view.self.address}/${view.self.prefixLength}`,
    peers: view.peers.map((p) => ({
      publicKey: p.publicKey,
      allowedIps: p.allowedIps,
      endpoint: endpoints?.has(p.publicKey) ? endpoints.get(p.publicKey)! : p.endpoint || null,
      keepalive: p.keepalive,
    })),
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
