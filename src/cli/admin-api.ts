// Typed calls of the admin REST API, one per admin command.
import type { AdminToken, AuditEntry, DnsRecord, NetworkLiveStatus, ExtClient, MeshNode, Network, NetworkPatch, NetworkSpec } from '../core/types.ts';
import type { KeyView } from '../controller/services/views.ts';
import type { AdminClient } from './admin-client.ts';
import type { DnsExport } from '../controller/dns-export.ts';

const seg = encodeURIComponent;

export const adminApi = (c: AdminClient) => ({
  listNetworks: () => c.call<Network[]>('GET', '/networks'),
  showNetwork: (name: string) => c.call<Network>('GET', `/networks/${seg(name)}`),
  createNetwork: (spec: NetworkSpec) => c.call<Network>('POST', '/networks', spec),
  updateNetwork: (name: string, patch: NetworkPatch) => c.call<Network>('PATCH', `/networks/${seg(name)}`, patch),
  deleteNetwork: (name: string, force: boolean) => c.call<void>('DELETE', `/networks/${seg(name)}${force ? '?force=true' : ''}`),

  listKeys: (network: string) => c.call<KeyView[]>('GET', `/networks/${seg(network)}/keys`),
  createKey: (network: string, req: { name?: string; uses?: number | 'unlimited'; expires?: string }) => c.call<KeyView & { token: string }>('POST', `/networks/${seg(network)}/keys`, req),
  revokeKey: (network: string, name: string) => c.call<KeyView>('DELETE', `/networks/${seg(network)}/keys/${seg(name)}`),

  listNodes: (network?: string) => c.call<MeshNode[]>('GET', network ? `/networks/${seg(network)}/nodes` : '/nodes'),
  showNode: (network: string, node: string) => c.call<MeshNode>('GET', `/networks/${seg(network)}/nodes/${seg(node)}`),
  approveNode: (network: string, node: string) => c.call<MeshNode>('POST', `/networks/${seg(network)}/nodes/${seg(node)}/approve`),
  deleteNode: (network: string, node: string) => c.call<MeshNode>('DELETE', `/networks/${seg(network)}/nodes/${seg(node)}`),

  setIngress: (network: string, node: string, on: boolean) => c.call<MeshNode>(on ? 'PUT' : 'DELETE', `/networks/${seg(network)}/nodes/${seg(node)}/ingress`),
  setEgress: (network: string, node: string, egress: { ranges: string[]; nat: boolean } | null) =>
    c.call<MeshNode>(egress ? 'PUT' : 'DELETE', `/networks/${seg(network)}/nodes/${seg(node)}/egress`, egress ?? undefined),

  listClients: (network: string) => c.call<ExtClient[]>('GET', `/networks/${seg(network)}/clients`),
  showClient: (network: string, name: string) => c.call<ExtClient>('GET', `/networks/${seg(network)}/clients/${seg(name)}`),
  createClient: (network: string, req: { name: string; gateway: string; publicKey: string; dns?: boolean; fullTunnel?: boolean }) =>
    c.call<ExtClient>('POST', `/networks/${seg(network)}/clients`, req),
  deleteClient: (network: string, name: string) => c.call<ExtClient>('DELETE', `/networks/${seg(network)}/clients/${seg(name)}`),
  setClientEnabled: (network: string, name: string, enabled: boolean) =>
    c.call<ExtClient>('POST', `/networks/${seg(network)}/clients/${seg(name)}/${enabled ? 'enable' : 'disable'}`),

  listDns: (network: string) => c.call<DnsRecord[]>('GET', `/networks/${seg(network)}/dns`),
  addDns: (network: string, name: string, address: string) => c.call<DnsRecord>('POST', `/networks/${seg(network)}/dns`, { name, address }),
  exportDns: (network: string) => c.call<DnsExport>('GET', `/networks/${seg(network)}/dns-export`),
  removeDns: (network: string, name: string) => c.call<void>('DELETE', `/networks/${seg(network)}/dns/${seg(name)}`),

  listAdminTokens: () => c.call<AdminToken[]>('GET', '/admin/tokens'),
  createAdminToken: (req: { name: string; expires?: string }) => c.call<AdminToken & { token: string }>('POST', '/admin/tokens', req),
  revokeAdminToken: (name: string) => c.call<AdminToken>('DELETE', `/admin/tokens/${seg(name)}`),
  whoami: () => c.call<AdminToken>('GET', '/admin/whoami'),
  listAudit: (q: { since?: string; limit?: number; network?: string }) =>
    c.call<AuditEntry[]>('GET', `/audit?${new URLSearchParams(Object.entries(q).filter(([, v]) => v !== undefined).map(([k, v]): [string, string] => [k, String(v)])).toString()}`),
  networkStatus: (network: string) => c.call<NetworkLiveStatus>('GET', `/networks/${seg(network)}/status`),
});
