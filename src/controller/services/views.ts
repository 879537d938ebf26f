// Store rows -> the public JSON shapes of CLI.md.
import { nodeStatus } from '../../core/health.ts';
import type { AccessKey, MeshNode } from '../../core/types.ts';
import type { NodeRow } from '../store/store.ts';

/** A key as the API shows it: never its secret; `token` only in the answer to its creation. */
export type KeyView = AccessKey & { token?: string };

export const keyView = (k: AccessKey): KeyView => ({ ...k });

export function nodeView(n: NodeRow, now: Date, lastHandshake?: number | null): MeshNode {
  return {
    id: n.id,
    name: n.name,
    network: n.network,
    address: n.address,
    publicKey: n.publicKey,
    endpoint: n.endpoint,
    listenPort: n.listenPort,
    status: nodeStatus({ approved: n.approved, lastContact: n.lastCheckin, lastHandshake: lastHandshake ?? null }, now.getTime()),
    lastCheckin: n.lastCheckin,
    ingress: n.ingress ?? false,
    egressRanges: n.egressRanges ?? [],
    egressNat: n.egressNat ?? false,
  };
}
