// Table `dns_records`: custom records. Node records are derived from `nodes`, not stored.
import { MeshError } from '../../../core/errors.ts';
import type { DnsRecord } from '../../../core/types.ts';
import { assertNameFree, type NameUse } from '../../../core/names.ts';
import type { Sql } from './engine.ts';

export function listDns(sql: Sql, network: string): DnsRecord[] {
  const nodes = sql.all<{ name: string; address: string }>('SELECT name, address FROM nodes WHERE network = ? AND approved = 1 ORDER BY name', [network]);
  const custom = sql.all<{ name: string; address: string }>('SELECT name, address FROM dns_records WHERE network = ? ORDER BY name', [network]);
  return [
    ...nodes.map((r) => ({ name: r.name, network, address: r.address, source: 'node' as const })),
    ...custom.map((r) => ({ name: r.name, network, address: r.address, source: 'custom' as const })),
  ];
}

/** What uses `name` in `network` (one name space for nodes and custom records). */
export function nameUse(sql: Sql, network: string, name: string): NameUse {
  return {
    node: sql.get('SELECT 1 FROM nodes WHERE network = ? AND name = ?', [network, name]) !== undefined,
    record: sql.get('SELECT 1 FROM dns_records WHERE network = ? AND name = ?', [network, name]) !== undefined,
  };
}

export function insertDns(sql: Sql, network: string, name: string, address: string): DnsRecord {
  assertNameFree(network, name, 'record', nameUse(sql, network, name));
  sql.run('INSERT INTO dns_records (network, name, address, created_at) VALUES (?, ?, ?, ?)', [network, name, address, new Date().toISOString()]);
  return { name, network, address, source: 'custom' };
}

export function deleteDns(sql: Sql, network: string, name: string): void {
  if (sql.run('DELETE FROM dns_records WHERE network = ? AND name = ?', [network, name]) === 0) {
    const isNode = sql.get('SELECT 1 FROM nodes WHERE network = ? AND name = ?', [network, name]);
    throw new MeshError('NOT_FOUND', isNode
      ? `"${name}" is a node's record in network "${network}"; it goes away with the node`
      : `record "${name}" does not exist in network "${network}"`, { hint: `List records with: meshctl dns list ${network}` });
  }
}
