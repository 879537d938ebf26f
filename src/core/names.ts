// One name space per network: a name under <network> is a node's, an external client's or a
// custom DNS record's, never two of them (the DNS answers `<name>.<domain>` for each). Pure: the store says what uses the
// name inside its transaction, this says whether the new use is allowed and how to say no.
import { MeshError } from './errors.ts';

/** What already uses a name in a network. */
export interface NameUse {
  node: boolean;
  record: boolean;
  /** An external client's name (absent: none). */
  client?: boolean;
}

/** Throws NAME_TAKEN (or ALREADY_EXISTS for a record that exists as a record) unless `name` is
 * free in `network` for a new `kind`. */
export function assertNameFree(network: string, name: string, kind: 'node' | 'record' | 'client', used: NameUse): void {
  if (used.client) {
    throw new MeshError(kind === 'client' ? 'ALREADY_EXISTS' : 'NAME_TAKEN', kind === 'client'
      ? `external client "${name}" already exists in network "${network}"`
      : `"${name}" is the name of an external client in network "${network}"; its DNS name comes from the client`, {
      hint: kind === 'client' ? `See it with: meshctl clients show ${network} ${name}` : kind === 'node' ? 'Join with another --name' : 'Pick another record name',
    });
  }
  if (kind === 'client') {
    if (used.node) throw new MeshError('NAME_TAKEN', `"${name}" is the name of a node in network "${network}"`, { hint: 'Pick another client name' });
    if (used.record) throw new MeshError('NAME_TAKEN', `"${name}" is a custom DNS record in network "${network}"; a client cannot take its name`, { hint: `Pick another client name, or remove the record first: meshctl dns rm ${network} ${name}` });
    return;
  }
  if (kind === 'node') {
    if (used.node) throw new MeshError('NAME_TAKEN', `a node named "${name}" already exists in network "${network}"`, { hint: 'Join with another --name' });
    if (used.record) {
      throw new MeshError('NAME_TAKEN', `"${name}" is a custom DNS record in network "${network}" (${name}.${network}); a node cannot take its name`, {
        hint: `Join with another --name, or remove the record first: meshctl dns rm ${network} ${name}`,
      });
    }
    return;
  }
  if (used.node) throw new MeshError('NAME_TAKEN', `"${name}" is the name of a node in network "${network}"; its record comes from the node`, { hint: 'Pick another record name' });
  if (used.record) throw new MeshError('ALREADY_EXISTS', `record "${name}" already exists in network "${network}"`, { hint: `Remove it first: meshctl dns rm ${network} ${name}` });
}

/** Why `dns rm` found no custom record `name`: a node's or a client's name goes with its owner. */
export function noSuchRecord(network: string, name: string, used: NameUse): MeshError {
  const owner = used.node ? 'node' : used.client ? 'client' : null;
  return new MeshError('NOT_FOUND', owner
    ? `"${name}" is ${owner === 'node' ? "a node's" : "an external client's"} record in network "${network}"; it goes away with the ${owner}`
    : `record "${name}" does not exist in network "${network}"`, { hint: `List records with: meshctl dns list ${network}` });
}
