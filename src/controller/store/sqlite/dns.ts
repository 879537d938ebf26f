// Table `dns_records`: custom records. Node and client records are derived from `nodes` and
// `ext_clients`, not stored.
import { parseRecord, sortRecords, type RecordView } from '../../../core/dns.ts';
import type { DnsRecord, Network } from '../../../core/types.ts';
import { assertNameFree, noSuchRecord, type NameUse } from '../../../core/names.ts';
import { toRecordView as toView, type RecordRecord as Row } from '../shared/rows.ts';
import { noSuchCnameTarget } from '../shared/refusals.ts';
import type { Sql } from './engine.ts';


/** The custom records of `network`, as views carry them, sorted by name. */
export const listCustom = (sql: Sql, network: string): RecordView[] =>
  sql.all<Row>('SELECT name, type, address FROM dns_records WHERE network = ? ORDER BY name', [network]).map(toView);

/** The A records of the network's enabled external clients (`<client>.<domain>`), sorted by name. */
export const listClientRecords = (sql: Sql, network: string): RecordView[] =>
  sql.all<Row>("SELECT name, 'A' AS type, address FROM ext_clients WHERE network = ? AND enabled = 1 ORDER BY name", [network]).map(toView);

/** What views carry: custom records and the clients' names, sorted by name. */
export const listRecords = (sql: Sql, network: string): RecordView[] => sortRecords([...listCustom(sql, network), ...listClientRecords(sql, network)]);

export function listDns(sql: Sql, network: string): DnsRecord[] {
  const nodes = sql.all<{ name: string; address: string }>('SELECT name, address FROM nodes WHERE network = ? AND approved = 1 ORDER BY name', [network]);
  return [
    ...nodes.map((r) => ({ name: r.name, network, address: r.address, source: 'node' as const, type: 'A' as const })),
    ...listCustom(sql, network).map((r) => ({ ...r, network, source: 'custom' as const })),
    ...listClientRecords(sql, network).map((r) => ({ ...r, network, source: 'client' as const })),
  ];
}

/** What uses `name` in `network` (one name space for nodes and custom records). */
export function nameUse(sql: Sql, network: string, name: string): NameUse {
  return {
    node: sql.get('SELECT 1 FROM nodes WHERE network = ? AND name = ?', [network, name]) !== undefined,
    record: sql.get('SELECT 1 FROM dns_records WHERE network = ? AND name = ?', [network, name]) !== undefined,
    client: sql.get('SELECT 1 FROM ext_clients WHERE network = ? AND name = ?', [network, name]) !== undefined,
  };
}

/** Adds a custom record: an IPv4 address (A) or another name of the network (CNAME). A record
 * may not take a node's name, and a CNAME must point at a name that exists. */
export function insertDns(sql: Sql, net: Network, name: string, address: string): DnsRecord {
  const network = net.name;
  const rec = parseRecord(name, address, net.domain);
  assertNameFree(network, name, 'record', nameUse(sql, network, name));
  if (rec.type === 'CNAME') {
    const target = nameUse(sql, network, rec.address);
    if (!target.node && !target.record && !target.client) throw noSuchCnameTarget(network, rec.address);
  }
  sql.run('INSERT INTO dns_records (network, name, type, address, created_at) VALUES (?, ?, ?, ?, ?)', [network, name, rec.type, rec.address, new Date().toISOString()]);
  return { ...rec, network, source: 'custom' };
}

export function deleteDns(sql: Sql, network: string, name: string): void {
  if (sql.run('DELETE FROM dns_records WHERE network = ? AND name = ?', [network, name]) === 0) throw noSuchRecord(network, name, nameUse(sql, network, name));
}
