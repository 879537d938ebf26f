// The errors both engines answer with, word for word the same: what does not exist, what is
// taken, what a write refuses. Each returns the error for the caller to throw.
import { MeshError } from '../../../core/errors.ts';
import type { NodeRow } from '../store.ts';

const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;

export const noSuchNetwork = (name: string) =>
  new MeshError('NOT_FOUND', `network "${name}" does not exist`, { hint: 'List networks with: meshctl network list' });

export const networkExists = (name: string) =>
  new MeshError('ALREADY_EXISTS', `network "${name}" already exists`, { hint: 'Pick another name, or see it with: meshctl network show ' + name });

/** Unless `force`, a network with nodes is not deleted. */
export function assertDeletable(name: string, count: number, force: boolean): void {
  if (count > 0 && !force) {
    throw new MeshError('NETWORK_NOT_EMPTY', `network "${name}" still has ${plural(count, 'node')}`, {
      hint: `Delete it with its nodes: meshctl network delete ${name} --force`,
    });
  }
}

export const noSuchNode = (network: string, ref: string) =>
  new MeshError('NOT_FOUND', `node "${ref}" does not exist in network "${network}"`, { hint: `List nodes with: meshctl nodes list ${network}` });

/** A node's own request (an update or a leave) after it was removed. */
export const nodeRemoved = (why: 'update' | 'leave') =>
  new MeshError('NODE_REMOVED', why === 'update' ? 'this node has been removed from its network' : 'this node is no longer a member of its network');

export const nodeKeyTaken = (network: string) =>
  new MeshError('ALREADY_EXISTS', `this public key already belongs to a node of network "${network}"`, { hint: 'Leave the network first, or generate a new key pair' });

export const nodeNameIsClient = (network: string, name: string) =>
  new MeshError('NAME_TAKEN', `an external client named "${name}" already exists in network "${network}"`, { hint: 'Join with another --name' });

export const noSuchClient = (network: string, name: string) =>
  new MeshError('NOT_FOUND', `external client "${name}" does not exist in network "${network}"`, { hint: `List clients with: meshctl clients list ${network}` });

export function assertIngress(gw: NodeRow, network: string): void {
  if (!gw.ingress) {
    throw new MeshError('NOT_A_GATEWAY', `node "${gw.name}" is not an ingress gateway of network "${network}"`, {
      hint: `Make it one first: meshctl nodes ingress ${network} ${gw.name}`,
    });
  }
}

export const clientKeyTaken = (network: string) =>
  new MeshError('ALREADY_EXISTS', `this public key already belongs to a node or client of network "${network}"`, { hint: 'Generate a new key pair for the client' });

/** Ingress is not turned off while the node still carries clients. */
export function assertNoClients(n: NodeRow, network: string, count: number): void {
  if (count > 0) {
    throw new MeshError('GATEWAY_IN_USE', `node "${n.name}" is the gateway of ${plural(count, 'external client')}`, {
      hint: `Delete them first (meshctl clients list ${network}), then turn ingress off`,
    });
  }
}

export const keyExists = (network: string, name: string) =>
  new MeshError('ALREADY_EXISTS', `access key "${name}" already exists in network "${network}"`, { hint: 'Pick another --name, or leave it out for a generated one' });

export const noSuchKey = (network: string, name: string) =>
  new MeshError('NOT_FOUND', `access key "${name}" does not exist in network "${network}"`, { hint: `List keys with: meshctl keys list ${network}` });

export const noSuchCnameTarget = (network: string, target: string) =>
  new MeshError('NOT_FOUND', `a CNAME must point at a name of network "${network}": "${target}" is neither a node, a client nor a record there`, { hint: `List names with: meshctl dns list ${network}` });

export const adminTokenExists = (name: string) =>
  new MeshError('ALREADY_EXISTS', `an admin token named "${name}" exists (revoked names stay taken)`, { hint: 'Pick another name; see `meshctl admin token list`' });

export const noSuchAdminToken = (name: string) =>
  new MeshError('NOT_FOUND', `admin token "${name}" does not exist`, { hint: 'List them with: meshctl admin token list' });
