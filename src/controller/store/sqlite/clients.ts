// Table `ext_clients`: external clients (plain WireGuard peers behind an ingress gateway). Only
// public keys are stored; a client's private key never reaches the controller.
import { assertNameFree } from '../../../core/names.ts';
import { nameUse } from './dns.ts';
import { freeAddresses, takeAddress } from './addresses.ts';
import type { ClientRow, NewClient } from '../store.ts';
import type { Sql } from './engine.ts';
import { mustNode } from './nodes.ts';
import { CLIENT_SELECT as SELECT, toClient, type ClientRecord as Row } from '../shared/rows.ts';
import { assertIngress, clientKeyTaken, noSuchClient } from '../shared/refusals.ts';

export const listClients = (sql: Sql, network: string): ClientRow[] =>
  sql.all<Row>(`${SELECT} WHERE c.network = ? ORDER BY c.name`, [network]).map(toClient);

export function findClient(sql: Sql, network: string, name: string): ClientRow | undefined {
  const r = sql.get<Row>(`${SELECT} WHERE c.network = ? AND c.name = ?`, [network, name]);
  return r && toClient(r);
}

export function mustClient(sql: Sql, network: string, name: string): ClientRow {
  const c = findClient(sql, network, name);
  if (!c) throw noSuchClient(network, name);
  return c;
}

/** Inserts a client at the lowest address of `cidr` free of nodes and clients. */
export function insertClient(sql: Sql, c: NewClient, cidr: string): ClientRow {
  const gw = mustNode(sql, c.network, c.gateway);
  assertIngress(gw, c.network);
  assertNameFree(c.network, c.name, 'client', nameUse(sql, c.network, c.name));
  const keyTaken = sql.get('SELECT 1 FROM ext_clients WHERE network = ? AND public_key = ? UNION ALL SELECT 1 FROM nodes WHERE network = ? AND public_key = ?', [c.network, c.publicKey, c.network, c.publicKey]);
  if (keyTaken) throw clientKeyTaken(c.network);
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
