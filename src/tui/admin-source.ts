// The dashboard's data source in a real run: the admin API through the same client (target,
// secret, pinned CA) as every admin command, and its event stream.
import { adminApi } from '../cli/admin-api.ts';
import type { AdminClient } from '../cli/admin-client.ts';
import { MeshError } from '../core/errors.ts';
import { createClient } from '../cli/clients.ts';
import type { Change } from '../core/change.ts';
import type { AuditEntry, DashEvent, DataSource, NetworkSoftState } from './source.ts';

const seg = encodeURIComponent;

/** Turns one server-sent event into a dashboard event (undefined for kinds it does not know). */
export function toDashEvent(e: { event: string; data: string; id?: string }): DashEvent | undefined {
  try {
    if (e.event === 'change') return { type: 'change', ...(e.id ? { id: e.id } : {}), change: JSON.parse(e.data) as Change };
    if (e.event === 'status') return { type: 'status', ...(JSON.parse(e.data) as Omit<Extract<DashEvent, { type: 'status' }>, 'type'>) };
    if (e.event === 'reset') return { type: 'reset' };
  } catch {
    return { type: 'reset' }; // an event we cannot read: take a fresh snapshot rather than miss it
  }
  return undefined;
}

export function adminSource(client: AdminClient, label: string): DataSource {
  const api = adminApi(client);
  return {
    label,
    listNetworks: api.listNetworks,
    createNetwork: api.createNetwork,
    listNodes: api.listNodes,
    showNode: api.showNode,
    approveNode: api.approveNode,
    deleteNode: api.deleteNode,
    setIngress: api.setIngress,
    setEgress: api.setEgress,
    networkStatus: (network) => client.call<NetworkSoftState>('GET', `/networks/${seg(network)}/status`),
    listKeys: api.listKeys,
    createKey: api.createKey,
    revokeKey: api.revokeKey,
    listDns: api.listDns,
    addDns: api.addDns,
    removeDns: api.removeDns,
    listClients: api.listClients,
    createClient: (network, req) => createClient(api, network, req),
    audit: async (limit) => {
      const r = await client.call<AuditEntry[] | { entries: AuditEntry[] }>('GET', `/audit?limit=${limit}`);
      return Array.isArray(r) ? r : (r?.entries ?? []);
    },
    follow(_onEvent, onLink) {
      // The event stream's client lands with the controller's stream (GET /api/v1/events); until
      // then the dashboard polls (App treats a final link error as "poll instead").
      onLink({ state: 'down', error: new MeshError('NOT_FOUND', 'no event stream in this build: polling'), final: true });
    },
  };
}
