// The pure parts of the store's writes, the same on both engines: the changes a write reports
// (named constructors; the engine supplies the version it bumped) and the plan of a gateway
// change. The engines keep their queries and transactions.
import type { Change } from '../../../core/change.ts';
import { clientNameChange } from '../../../core/change.ts';
import type { DnsRecord, Network } from '../../../core/types.ts';
import { settingsOf } from '../../../core/view.ts';
import { assertEgressRanges } from '../../../core/gateway.ts';
import type { ClientRow, GatewayPatch, NodeRow } from '../store.ts';
import type { NodeFields } from './rows.ts';
import { assertNoClients } from './refusals.ts';

export const nodeUpserted = (network: string, version: number, node: NodeRow, keepalive: number): Change =>
  ({ kind: 'node-upserted', network, version, node, keepalive });

export const nodeRemoved = (n: NodeRow, version: number): Change =>
  ({ kind: 'node-removed', network: n.network, version, nodeId: n.id, publicKey: n.publicKey });

export const settingsChanged = (net: Network): Change =>
  ({ kind: 'settings', network: net.name, version: net.version, settings: settingsOf(net) });

export const networkDeleted = (net: Network): Change => ({ kind: 'network-deleted', network: net.name, version: net.version + 1 });

export const recordAdded = (network: string, version: number, rec: DnsRecord): Change =>
  ({ kind: 'dns', network, version, upserted: [{ name: rec.name, type: rec.type, address: rec.address }], removed: [] });

export const namesRemoved = (network: string, version: number, names: string[]): Change =>
  ({ kind: 'dns', network, version, upserted: [], removed: names });

/** Client `c`'s name (`<client>.<domain>`) now resolves, or no longer does. */
export const clientName = (c: ClientRow, version: number, resolves: boolean): Change =>
  ({ kind: 'dns', network: c.network, version, ...clientNameChange(c, resolves) });

/** The names of the enabled clients that node `n` is the gateway of (they go with it). */
export const namesServedBy = (n: NodeRow, clients: readonly ClientRow[]): string[] =>
  clients.filter((c) => c.gatewayId === n.id && c.enabled).map((c) => c.name);

/** The audit target of a join: "<network>/<node> (key <key>)". */
export const joinTarget = (key: { network: string; name: string }, node: { name: string }): string => `${key.network}/${node.name} (key ${key.name})`;

/** What planGateway needs the caller to read first for `patch` on `n`: its clients' count
 * (ingress turned off) and the network's nodes (egress ranges set). */
export const gatewayReads = (n: NodeRow, patch: GatewayPatch): { clientCount: boolean; nodes: boolean } =>
  ({ clientCount: patch.ingress === false && n.ingress !== false, nodes: patch.egress !== undefined && patch.egress !== null });

/** The fields a gateway change sets on node `n` of a network of range `cidr`, and how the audit
 * log says it; undefined when nothing changes. `clientCount` and `nodes` as gatewayReads asks
 * (anything where it does not). Throws GATEWAY_IN_USE, and what assertEgressRanges throws. */
export function planGateway(n: NodeRow, patch: GatewayPatch, cidr: string, clientCount: number, nodes: readonly NodeRow[]): { fields: NodeFields; what: string } | undefined {
  const fields: NodeFields = {};
  if (patch.ingress !== undefined && patch.ingress !== n.ingress) {
    if (!patch.ingress) assertNoClients(n, n.network, clientCount);
    fields.ingress = patch.ingress;
  }
  if (patch.egress === null) {
    fields.egressRanges = [];
    fields.egressNat = false;
  } else if (patch.egress !== undefined) {
    const others = nodes.filter((o) => o.id !== n.id && o.egressRanges?.length).map((o) => ({ node: o.name, ranges: o.egressRanges ?? [] }));
    fields.egressRanges = assertEgressRanges(patch.egress.ranges, cidr, others);
    fields.egressNat = patch.egress.nat;
  }
  const same = (fields.ingress === undefined || fields.ingress === (n.ingress ?? false))
    && (fields.egressRanges === undefined || fields.egressRanges.join(',') === (n.egressRanges ?? []).join(','))
    && (fields.egressNat === undefined || fields.egressNat === (n.egressNat ?? false));
  if (same) return undefined;
  const what = [fields.ingress === undefined ? '' : `ingress ${fields.ingress ? 'on' : 'off'}`,
    fields.egressRanges === undefined ? '' : fields.egressRanges.length ? `egress ${fields.egressRanges.join(',')}${fields.egressNat ? ' nat' : ''}` : 'egress off'].filter(Boolean).join(', ');
  return { fields, what };
}
