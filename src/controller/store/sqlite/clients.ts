// Table `ext_clients`: external clients (plain WireGuard peers behind an ingress gateway). Only
// public keys are stored; a client's private key never reaches the controller.
import { assertNameFree } from '../../../core/names.ts';
import { nameUse } from './dns.ts';
import { MeshError } from '../../../core/errors.ts';
import { freeAddresses, takeAddress } from './addresses.ts';
import type { ClientRow, NewClient } from '../store.ts';
import type { Sql } from './engine.ts';
import { mustNode } from './nodes.ts';

interface Row {
  network: string;
  name: string;
  address: string;
  public_key: string;
  gateway_id: string;
  gateway: string;
  enabled: number;
  dns: number;
  full_tunnel: number;
  created_at: string;
}

const toClient = (r: Row): ClientRow => ({
  network: r.network,
  name: r.name,
  address: r.address,
  publicKey: r.public_key,
  gatewayId: r.gateway_id,
  gateway: r.gateway,
  enabled: r.enabled === 1,
  dns: r.dns === 1,
  fullTunnel: r.full_tunnel === 1,
  createdAt: r.created_at,
});

const SELECT = 'SELECT c.*, n.name AS gateway FROM ext_clients c JOIN nodes n ON n.id = c.gateway_id';

export const listClients = (sql: Sql, network: string): ClientRow[] =>
  sql.all<Row>(`${SELECT} WHERE c.network = ? ORDER BY c.name`, [network]).map(toClient);

export function findClient(sql: Sql, network: string, name: string): ClientRow | undefined {
  const r = sql.get<Row>(`${SELECT} WHERE c.network = ? AND c.name = ?`, [network, name]);
  return r && toClient(r);
}

export function mustClient(sql: Sql, network: string, name: string): ClientRow {
  const c = findClient(sql, network, name);
  if (!c) throw new MeshError('NOT_FOUND', `external client "${name}" does not exist in network "${network}"`, { hint: `List clients with: meshctl clients list ${network}` });
  return c;
}

/** Inserts a client at the lowest address of `cidr` free of nodes and clients. */
export function insertClient(sql: Sql, c: NewClient, cidr: string): ClientRow {
  const gw = mustNode(sql, c.network, c.gateway);
  if (!gw.ingress) {
    throw new MeshError('NOT_A_GATEWAY', `node "${gw.name}" is not an ingress gateway of network "${c.network}"`, {
      hint: `Make it one first: meshctl nodes ingress ${c.network} ${gw.name}`,
    });
  }
  assertNameFree(c.network, c.name, 'client', nameUse(sql, c.network, c.name));
  if (sql.get('SELECT 1 FROM ext_clients WHERE network = ? AND public_key = ? UNION ALL SELECT 1 FROM nodes WHERE network = ? AND public_key = ?', [c.network, c.publicKey, c.network, c.publicKey])) {
    throw new MeshError('ALREADY_EXISTS', `this public key already belongs to a node or client of network "${c.network}"`, { hint: 'Generate a new key pair for the client' });
  }
  const address = takeAddress(sql, c.network, cidr);
  sql.run('INSERT INTO ext_clients (network, name, address, public_key, gateway_id, enabled, dns, full_tunnel, created_at) VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?)', [
    c.network, c.name, address, c.publicKey, gw.id, c.dns ? 1 : 0, c.fullTunnel ? 1 : 0, new Date().toISOString(),
  ]);
  return findClient(sql, c.network, c.name)!;
}

export function setClientEnabled(sql: Sql, network: string, name: string, enabled: boolean): void {
  sql.run('UPDATE ext_clients SET enabled = ? WHERE network = ? AND name = ?', [enabled ? 1 : 0, network, name]);
}

export function removeClient(sql: Sql, network: string, name: string): void {
  const c = sql.get<{ address: string }>('SELECT address FROM ext_clients WHERE network = ? AND name = ?', [network, name]);
  if (c) freeAddresses(sql, network, [c.address]);
  sql.run('DELETE FROM ext_clients WHERE network = ? AND name = ?', [network, name]);
}

export const countClientsOf = (sql: Sql, gatewayId: string): number =>
  sql.get<{ n: number }>('SELECT count(*) AS n FROM ext_clients WHERE gateway_id = ?', [gatewayId])!.n;
