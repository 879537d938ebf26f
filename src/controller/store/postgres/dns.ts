// Table `dns_records`: custom records. Node and client records are derived from `nodes` and
// `ext_clients`, not stored.
import { MeshError } from '../../../core/errors.ts';
import { parseRecord, sortRecords, type RecordView } from '../../../core/dns.ts';
import type { DnsRecord, Network } from '../../../core/types.ts';
import { assertNameFree, noSuchRecord, type NameUse } from '../../../core/names.ts';
import { toRecordView as toView, type RecordRecord as Row } from '../shared/rows.ts';
import { noSuchCnameTarget } from '../shared/refusals.ts';
import type { Q } from './engine.ts';


/** The custom records of `network`, as views carry them, sorted by name. */
export const listCustom = async (q: Q, network: string): Promise<RecordView[]> =>
  (await q.all<Row>('SELECT name, type, address FROM dns_records WHERE network = $1 ORDER BY name', [network])).map(toView);

/** The A records of the network's enabled external clients (`<client>.<domain>`), sorted by name. */
export const listClientRecords = async (q: Q, network: string): Promise<RecordView[]> =>
  (await q.all<Row>("SELECT name, 'A' AS type, address FROM ext_clients WHERE network = $1 AND enabled ORDER BY name", [network])).map(toView);

/** What views carry: custom records and the clients' names, sorted by name. */
export const listRecords = async (q: Q, network: string): Promise<RecordView[]> => sortRecords([...await listCustom(q, network), ...await listClientRecords(q, network)]);

export async function listDns(q: Q, network: string): Promise<DnsRecord[]> {
  const nodes = await q.all<{ name: string; address: string }>('SELECT name, address FROM nodes WHERE network = $1 AND approved ORDER BY name', [network]);
  return [
    ...nodes.map((r) => ({ name: r.name, network, address: r.address, source: 'node' as const, type: 'A' as const })),
    ...(await listCustom(q, network)).map((r) => ({ ...r, network, source: 'custom' as const })),
    ...(await listClientRecords(q, network)).map((r) => ({ ...r, network, source: 'client' as const })),
  ];
}

/** What uses `name` in `network` (one name space for nodes and custom records). */
export async function nameUse(q: Q, network: string, name: string): Promise<NameUse> {
  return {
    node: (await q.get('SELECT 1 FROM nodes WHERE network = $1 AND name = $2', [network, name])) !== undefined,
    record: (await q.get('SELECT 1 FROM dns_records WHERE network = $1 AND name = $2', [network, name])) !== undefined,
    client: (await q.get('SELECT 1 FROM ext_clients WHERE network = $1 AND name = $2', [network, name])) !== undefined,
  };
}

/** The caller holds the network's lock (node names cannot change under this check). An IPv4
 * address makes an A record, another name of the network a CNAME (which must exist). */
export async function insertDns(q: Q, net: Network, name: string, address: string): Promise<DnsRecord> {
  const network = net.name;
  const rec = parseRecord(name, address, net.domain);
  assertNameFree(network, name, 'record', { ...(await nameUse(q, network, name)), record: false }); // a second record: ON CONFLICT below
  if (rec.type === 'CNAME') {
    const target = await nameUse(q, network, rec.address);
    if (!target.node && !target.record && !target.client) throw noSuchCnameTarget(network, rec.address);
  }
  const inserted = await q.run('INSERT INTO dns_records (network, name, type, address, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING', [
    network, name, rec.type, rec.address, new Date().toISOString(),
  ]);
  if (inserted === 0) {
    throw new MeshError('ALREADY_EXISTS', `record "${name}" already exists in network "${network}"`, { hint: `Remove it first: meshctl dns rm ${network} ${name}` });
  }
  return { ...rec, network, source: 'custom' };
}

export async function deleteDns(q: Q, network: string, name: string): Promise<void> {
  if ((await q.run('DELETE FROM dns_records WHERE network = $1 AND name = $2', [network, name])) === 0) throw noSuchRecord(network, name, await nameUse(q, network, name));
}
