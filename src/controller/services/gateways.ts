// The admin operations on gateways and external clients: validate with core, then one store call
// each. Client configs are rendered here with a placeholder for the private key, which the
// controller never has.
import { MeshError } from '../../core/errors.ts';
import { assertDnsLabel } from '../../core/network.ts';
import { assertWgKey } from '../../core/wg-key.ts';
import { clientAllowedIps, clientConfig } from '../../core/client-config.ts';
import type { ExtClient, MeshNode } from '../../core/types.ts';
import type { ControllerContext } from '../context.ts';
import type { HealthBook } from '../health-book.ts';
import type { ClientRow, NodeRow } from '../store/store.ts';
import { nodeView } from './views.ts';

export interface ClientRequest {
  name: string;
  gateway: string;
  publicKey: string;
  dns?: boolean;
  fullTunnel?: boolean;
}

export class GatewayService {
  private readonly ctx: ControllerContext;
  private readonly health: HealthBook | undefined;
  constructor(ctx: ControllerContext, health?: HealthBook) {
    this.ctx = ctx;
    this.health = health;
  }

  private view(n: NodeRow): MeshNode {
    return nodeView(n, this.ctx.now(), this.health?.lastHandshake(n.network, n.id));
  }

  /** Makes `node` an ingress gateway, or (on = false) no longer one. */
  async setIngress(network: string, node: string, on: boolean, actor: string): Promise<MeshNode> {
    return this.view(await this.ctx.store.setGateway(network, node, { ingress: on }, actor));
  }

  /** Makes `node` the egress gateway of `egress.ranges`, or (null) no longer one. */
  async setEgress(network: string, node: string, egress: { ranges: string[]; nat: boolean } | null, actor: string): Promise<MeshNode> {
    return this.view(await this.ctx.store.setGateway(network, node, { egress }, actor));
  }

  async listClients(network: string): Promise<ExtClient[]> {
    return (await this.ctx.store.listClients(network)).map(clientView);
  }

  /** One client, with its config (no private key). */
  async getClient(network: string, name: string): Promise<ExtClient> {
    const c = await this.ctx.store.getClient(network, name);
    if (!c) throw new MeshError('NOT_FOUND', `external client "${name}" does not exist in network "${network}"`, { hint: `List clients with: meshctl clients list ${network}` });
    return { ...clientView(c), config: await this.configOf(c) };
  }

  async createClient(network: string, req: ClientRequest, actor: string): Promise<ExtClient> {
    assertDnsLabel(req.name, 'client name');
    assertWgKey(req.publicKey);
    const gw = await this.ctx.store.getNode(network, req.gateway);
    if (gw && !gw.endpoint) {
      throw new MeshError('NOT_A_GATEWAY', `gateway "${gw.name}" has no known endpoint for clients to reach it at`, {
        hint: `Let it check in once, or state one: meshctl join … --endpoint HOST:PORT`,
      });
    }
    const c = await this.ctx.store.createClient({ network, name: req.name, gateway: req.gateway, publicKey: req.publicKey, dns: req.dns ?? false, fullTunnel: req.fullTunnel ?? false }, actor);
    return { ...clientView(c), config: await this.configOf(c) };
  }

  async setClientEnabled(network: string, name: string, enabled: boolean, actor: string): Promise<ExtClient> {
    return clientView(await this.ctx.store.setClientEnabled(network, name, enabled, actor));
  }

  async deleteClient(network: string, name: string, actor: string): Promise<ExtClient> {
    return clientView(await this.ctx.store.deleteClient(network, name, actor));
  }

  /** The client's wg-quick config: its gateway as the one peer, the mesh and every egress range routed through it. */
  private async configOf(c: ClientRow): Promise<string> {
    const [net, nodes] = await Promise.all([this.ctx.store.getNetwork(c.network), this.ctx.store.listNodes(c.network)]);
    const gw = nodes.find((n) => n.id === c.gatewayId);
    if (!net || !gw) throw new MeshError('NOT_FOUND', `the gateway of client "${c.name}" no longer exists`);
    return clientConfig({
      name: c.name,
      network: c.network,
      address: c.address,
      // The node's DNS responder listens on its mesh address (private DNS).
      dns: c.dns ? gw.address : null,
      gateway: gw.name,
      gatewayPublicKey: gw.publicKey,
      endpoint: gw.endpoint ?? '',
      allowedIps: clientAllowedIps(net.cidr, nodes.flatMap((n) => n.egressRanges ?? []), c.fullTunnel),
      keepalive: net.keepalive,
    });
  }
}

export const clientView = (c: ClientRow): ExtClient => ({
  name: c.name,
  network: c.network,
  address: c.address,
  publicKey: c.publicKey,
  gateway: c.gateway,
  enabled: c.enabled,
  dns: c.dns,
  fullTunnel: c.fullTunnel,
});
