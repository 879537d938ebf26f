// Human renderings of the admin results.
import type { DnsRecord, ExtClient, MeshNode, Network } from '../core/types.ts';
import type { KeyView } from '../controller/services/views.ts';
import { table } from './table.ts';

export const networksTable = (ns: Network[]) =>
  ns.length === 0 ? 'No networks. Create one with: meshctl network create NAME --cidr 10.10.0.0/24'
    : table(['NAME', 'CIDR', 'DOMAIN', 'PORT', 'KEEPALIVE', 'APPROVAL', 'VERSION'], ns.map((n) => [n.name, n.cidr, n.dns === false ? `${n.domain} (dns off)` : n.domain, n.listenPort, `${n.keepalive}s`, n.manualApproval ? 'manual' : 'auto', n.version]));

export const keysTable = (ks: KeyView[]) =>
  ks.length === 0 ? 'No access keys.'
    : table(['NAME', 'USES LEFT', 'EXPIRES', 'STATE'], ks.map((k) => [k.name, k.usesRemaining ?? 'unlimited', k.expiresAt ?? 'never', keyState(k)]));

function keyState(k: KeyView): string {
  if (k.revoked) return 'revoked';
  if (k.expiresAt && Date.parse(k.expiresAt) <= Date.now()) return 'expired';
  if (k.usesRemaining === 0) return 'used up';
  return 'usable';
}

export const nodesTable = (ns: MeshNode[]) =>
  ns.length === 0 ? 'No nodes.'
    : table(['NETWORK', 'NAME', 'ADDRESS', 'ENDPOINT', 'STATUS', 'GATEWAY', 'LAST CHECK-IN'], ns.map((n) => [n.network, n.name, n.address, n.endpoint, n.status, gatewayRoles(n), n.lastCheckin]));

/** "ingress", "egress 192.168.7.0/24 (nat)", both, or "" for a node that is no gateway. */
export function gatewayRoles(n: Pick<MeshNode, 'ingress' | 'egressRanges' | 'egressNat'>): string {
  const roles: string[] = [];
  if (n.ingress) roles.push('ingress');
  if (n.egressRanges?.length) roles.push(`egress ${n.egressRanges.join(',')}${n.egressNat ? ' (nat)' : ''}`);
  return roles.join(', ');
}

export const clientsTable = (cs: ExtClient[]) =>
  cs.length === 0 ? 'No external clients.'
    : table(['NAME', 'ADDRESS', 'GATEWAY', 'STATE', 'PUBLIC KEY'], cs.map((c) => [c.name, c.address, c.gateway, c.enabled ? 'enabled' : 'disabled', c.publicKey]));

export const recordsTable = (rs: DnsRecord[]) =>
  rs.length === 0 ? 'No records.' : table(['NAME', 'TYPE', 'ADDRESS', 'SOURCE'], rs.map((r) => [r.name, r.type ?? 'A', r.address, r.source]));
