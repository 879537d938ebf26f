// Table `ext_clients`: external clients (plain WireGuard peers behind an ingress gateway). Only
// public keys are stored; a client's private key never reaches the controller.
import { assertNameFree } from '../../../core/names.ts';
import { nameUse } from './dns.ts';
import { freeAddresses, takeAddress } from './addresses.ts';
import type { ClientRow, NewClient } from '../store.ts';
import type { Q } from './engine.ts';
import { mustNode } from './nodes.ts';
import { CLIENT_SELECT as SELECT, toClient, type ClientRecord as Row } from '../shared/rows.ts';
import { assertIngress, clientKeyTaken, noSuchClient } from '../shared/refusals.ts';

export const listClients = async (q: Q, network: string): Promise<ClientRow[]> =>
  (await q.all<Row>(`${SELECT} WHERE c.network = $1 ORDER BY c.name`, [network])).map(toClient);

export async function findClient(q: Q, network: string, name: string): Promise<ClientRow | undefined> {
  const r = await q.get<Row>(`${SELECT} WHERE c.network = $1 AND c.name = $2`, [network, name]);
  return r && toClient(r);
}

export async function mustClient(q: Q, network: string, name: string): Promise<ClientRow> {
  const c = await findClient(q, network, name);
  if (!c) throw noSuchClient(network, name);
  return c;
}

/** Inserts a client at the lowest address of `cidr` free of nodes and clients (the caller holds the network's lock). */
export async function insertClient(q: Q, c: NewClient, cidr: string): Promise<ClientRow> {
  const gw = await mustNode(q, c.network, c.gateway);
  assertIngress(gw, c.network);
  assertNameFree(c.network, c.name, 'client', await nameUse(q, c.network, c.name));
  const keyTaken = await q.get('SELECT 1 FROM ext_clients WHERE network = $1 AND public_key = $2 UNION ALL SELECT 1 FROM nodes WHERE network = $1 AND public_key = $2', [c.network, c.publicKey]);
  if (keyTaken) throw clientKeyTaken(c.network);
  const address = await takeAddress(q, c.network, cidr);
  await q.run('INSERT INTO ext_clients (network, name, address, public_key, gateway_id, enabled, dns, full_tunnel, created_at) VALUES ($1, $2, $3, $4, $5, true, $6, $7, $8)', [
    c.network, c.name, address, c.publicKey, gw.id, c.dns, c.fullTunnel, new Date().toISOString(),
  ]);
  return (await findClient(q, c.network, c.name))!;
}

export async function setClientEnabled(q: Q, network: string, name: string, enabled: boolean): Promise<void> {
  await q.run('UPDATE ext_clients SET enabled = $1 WHERE network = $2 AND name = $3', [enabled, network, name]);
}

export async function removeClient(q: Q, network: string, name: string): Promise<void> {
  const c = await q.get<{ address: string }>('DELETE FROM ext_clients WHERE network = $1 AND name = $2 RETURNING address', [network, name]);
  if (c) await freeAddresses(q, network, [c.address]);
}

export const countClientsOf = async (q: Q, gatewayId: string): Promise<number> =>
  Number((await q.get<{ n: string }>('SELECT count(*) AS n FROM ext_clients WHERE gateway_id = $1', [gatewayId]))!.n);
