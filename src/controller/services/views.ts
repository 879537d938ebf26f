// Store rows -> the public JSON shapes of CLI.md.
import { nodeStatus } from '../../core/health.ts';
import type { AccessKey, MeshNode } from '../../core/types.ts';
import type { NodeRow } from '../store/store.ts';

export interface KeyView {
  name: string;
  network: string;
  usesRemaining: number | null;
  expiresAt: string | null;
  revoked: boolean;
  createdAt: string;
  token?: string;
}

export const keyView = (k: AccessKey): KeyView => ({
  name: k.name,
  network: k.network,
  usesRemaining: k.usesRemaining,
  expiresAt: k.expiresAt,
  revoked: k.revoked,
  createdAt: k.createdAt,
});

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
  };
}
