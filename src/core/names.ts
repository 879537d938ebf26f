// One name space per network: a name under <network> is a node's or a custom DNS record's,
// never both (the DNS answers `<name>.<network>` for either). Pure: the store says what uses the
// name inside its transaction, this says whether the new use is allowed and how to say no.
import { MeshError } from './errors.ts';

/** What already uses a name in a network. */
export interface NameUse {
  node: boolean;
  record: boolean;
}

/** Throws NAME_TAKEN (or ALREADY_EXISTS for a record that exists as a record) unless `name` is
 * free in `network` for a new `kind`. */
export function assertNameFree(network: string, name: string, kind: 'node' | 'record', used: NameUse): void {
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
