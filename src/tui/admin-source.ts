// The dashboard's data source in a real run: the admin API through the same client (target,
// secret, pinned CA) as every admin command, and its event stream.
import { adminApi } from '../cli/admin-api.ts';
import type { AdminClient } from '../cli/admin-client.ts';
import { followEvents } from '../cli/event-stream.ts';
import { createClient } from '../cli/clients.ts';
import type { Change } from '../core/change.ts';
import type { AuditEntry, DashEvent, DataSource } from './source.ts';

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
    networkStatus: api.networkStatus,
    listKeys: api.listKeys,
    createKey: api.createKey,
    revokeKey: api.revokeKey,
    listDns: api.listDns,
    addDns: api.addDns,
    removeDns: api.removeDns,
    listClients: api.listClients,
    createClient: (network, req) => createClient(api, network, req),
    audit: async (limit) => (await api.listAudit({ limit })) as AuditEntry[],
    follow(onEvent, onLink, signal) {
      followEvents(client, {
        signal,
        backoff: { baseMs: 250, capMs: 5000 }, // a dashboard wants to know soon that the controller is back
        onEvent: (e) => {
          const d = toDashEvent(e);
          if (d) onEvent(d);
        },
        onOpen: () => onLink({ state: 'up' }),
        onDrop: (err) => onLink({ state: 'down', error: err }),
      }).catch((err: Error) => onLink({ state: 'down', error: err, final: true })); // no retry fixes it: poll
    },
  };
}
