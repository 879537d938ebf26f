// JSON schemas of the admin API (request validation and the OpenAPI document).
import { Type, type Static } from '@sinclair/typebox';

const strict = { additionalProperties: false } as const;

export const NetworkSchema = Type.Object({
  name: Type.String(),
  cidr: Type.String(),
  listenPort: Type.Integer(),
  keepalive: Type.Integer(),
  manualApproval: Type.Boolean(),
  domain: Type.String(),
  dns: Type.Boolean(),
  version: Type.Integer(),
}, { $id: 'Network' });

/** What a network's creation may set and an update may change. */
const networkSettings = {
  listenPort: Type.Optional(Type.Integer()),
  keepalive: Type.Optional(Type.Integer()),
  manualApproval: Type.Optional(Type.Boolean()),
  domain: Type.Optional(Type.String({ maxLength: 253 })),
  dns: Type.Optional(Type.Boolean()),
};

export const NetworkCreate = Type.Object({
  name: Type.String({ maxLength: 63 }),
  cidr: Type.String({ maxLength: 18 }),
  ...networkSettings,
}, strict);
export type NetworkCreate = Static<typeof NetworkCreate>;

export const NetworkUpdate = Type.Object(networkSettings, strict);
export type NetworkUpdate = Static<typeof NetworkUpdate>;

export const KeySchema = Type.Object({
  name: Type.String(),
  network: Type.String(),
  usesRemaining: Type.Union([Type.Integer(), Type.Null()]),
  expiresAt: Type.Union([Type.String(), Type.Null()]),
  revoked: Type.Boolean(),
  createdAt: Type.String(),
  token: Type.Optional(Type.String()),
});

export const KeyCreate = Type.Object({
  name: Type.Optional(Type.String({ maxLength: 63 })),
  uses: Type.Optional(Type.Union([Type.Integer(), Type.Literal('unlimited')], { description: 'default 1' })),
  expires: Type.Optional(Type.String({ maxLength: 40, description: 'a duration (24h), an ISO date, or "0" for never; default 24h' })),
}, strict);
export type KeyCreate = Static<typeof KeyCreate>;

export const NodeSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  network: Type.String(),
  address: Type.String(),
  publicKey: Type.String(),
  endpoint: Type.Union([Type.String(), Type.Null()]),
  listenPort: Type.Integer(),
  status: Type.Union([Type.Literal('pending'), Type.Literal('healthy'), Type.Literal('stale'), Type.Literal('down')]),
  lastCheckin: Type.Union([Type.String(), Type.Null()]),
  ingress: Type.Boolean(),
  egressRanges: Type.Array(Type.String()),
  egressNat: Type.Boolean(),
});

export const ClientSchema = Type.Object({
  name: Type.String(),
  network: Type.String(),
  address: Type.String(),
  publicKey: Type.String(),
  gateway: Type.String(),
  enabled: Type.Boolean(),
  dns: Type.Boolean(),
  fullTunnel: Type.Boolean(),
  config: Type.Optional(Type.String()),
});

export const ClientCreate = Type.Object({
  name: Type.String({ maxLength: 63 }),
  gateway: Type.String({ maxLength: 63 }),
  publicKey: Type.String({ maxLength: 44 }),
  dns: Type.Optional(Type.Boolean()),
  fullTunnel: Type.Optional(Type.Boolean()),
}, strict);
export type ClientCreate = Static<typeof ClientCreate>;

export const EgressSet = Type.Object({
  ranges: Type.Array(Type.String({ maxLength: 18 }), { minItems: 1, maxItems: 64 }),
  nat: Type.Optional(Type.Boolean()),
}, strict);
export type EgressSet = Static<typeof EgressSet>;

/** One peer of a node as `nodes show` reports it: how the node reaches it (NAT traversal). */
export const NodePeerPathSchema = Type.Object({
  name: Type.String(),
  path: Type.Union([Type.Literal('direct'), Type.Literal('relayed'), Type.Literal('probing'), Type.Literal('unknown')]),
  endpoint: Type.Union([Type.String(), Type.Null()]),
  winner: Type.Union([Type.Object({ endpoint: Type.String(), kind: Type.String() }), Type.Null()]),
  relay: Type.Union([Type.String(), Type.Null()]),
});

/** A node with its peers' paths (`nodes show`). */
export const NodeDetailSchema = Type.Composite([NodeSchema, Type.Object({ peers: Type.Optional(Type.Array(NodePeerPathSchema)) })]);

export const RecordSchema = Type.Object({
  name: Type.String(),
  network: Type.String(),
  address: Type.String(),
  source: Type.Union([Type.Literal('node'), Type.Literal('custom')]),
  type: Type.Union([Type.Literal('A'), Type.Literal('CNAME')]),
});

export const DnsExportSchema = Type.Object({
  network: Type.String(),
  domain: Type.String(),
  path: Type.String(),
  hosts: Type.String(),
  corefile: Type.String(),
});

export const RecordCreate = Type.Object({
  name: Type.String({ maxLength: 63 }),
  address: Type.String({ maxLength: 253 }),
}, strict);
export type RecordCreate = Static<typeof RecordCreate>;

export const NetworkParams = Type.Object({ network: Type.String({ maxLength: 63 }) }, strict);
export const NetworkItemParams = Type.Object({ network: Type.String({ maxLength: 63 }), name: Type.String({ maxLength: 63 }) }, strict);
export const ForceQuery = Type.Object({ force: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')])) }, strict);

export const AdminTokenSchema = Type.Object({
  name: Type.String(),
  createdAt: Type.String(),
  expiresAt: Type.Union([Type.String(), Type.Null()]),
  revokedAt: Type.Union([Type.String(), Type.Null()]),
  token: Type.Optional(Type.String()),
});

export const AdminTokenCreate = Type.Object({
  name: Type.String({ maxLength: 63 }),
  expires: Type.Optional(Type.String({ maxLength: 40 })),
}, strict);
export type AdminTokenCreate = Static<typeof AdminTokenCreate>;

export const NameParams = Type.Object({ name: Type.String({ maxLength: 63 }) }, strict);

export const ProblemSchema = Type.Object({
  type: Type.String(),
  title: Type.String(),
  status: Type.Integer(),
  detail: Type.String(),
  code: Type.String(),
  hint: Type.Optional(Type.String()),
});

/** GET /networks/{network}/status: the node screen and pair matrix of the dashboard. */
export const NetworkStatusSchema = Type.Object({
  network: Type.String(),
  nodes: Type.Array(Type.Object({
    id: Type.String(),
    name: Type.String(),
    address: Type.String(),
    endpoint: Type.Union([Type.String(), Type.Null()]),
    listenPort: Type.Integer(),
    status: Type.Union([Type.Literal('pending'), Type.Literal('healthy'), Type.Literal('stale'), Type.Literal('down')]),
    lastContact: Type.Union([Type.String(), Type.Null()], { description: 'last check-in or Watch stream opened (ISO 8601)' }),
    version: Type.Union([Type.Integer(), Type.Null()], { description: 'network version the node had applied at its last check-in; null: none since the controller started' }),
    rxBytes: Type.Number({ description: 'WireGuard bytes received from its peers, summed, as of its last check-in' }),
    txBytes: Type.Number({ description: 'WireGuard bytes sent to its peers, summed, as of its last check-in' }),
    reportedAt: Type.Union([Type.String(), Type.Null()], { description: 'when its last check-in report came' }),
    handshakes: Type.Array(Type.Object({
      peer: Type.String({ description: 'peer node name' }),
      publicKey: Type.String(),
      at: Type.Union([Type.String(), Type.Null()], { description: 'latest handshake this node reported with the peer (ISO 8601); null: none' }),
      path: Type.Union([Type.Literal('direct'), Type.Literal('relayed'), Type.Literal('unknown')], { description: 'NAT traversal: direct, relayed (through a ciphertext relay), or unknown (still probing, or nothing reported)' }),
    }), { description: 'one per other approved member of the network (empty for a pending node)' }),
  })),
}, { $id: 'NetworkStatus' });

export const AuditEntrySchema = Type.Object({
  at: Type.String(),
  actor: Type.String({ description: '"admin:<token name>" or "node:<id>"' }),
  action: Type.String(),
  target: Type.String(),
});

export const AuditQuery = Type.Object({
  since: Type.Optional(Type.String({ maxLength: 40, description: 'a duration back from now (30m, 24h, 7d) or an ISO 8601 time' })),
  limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,5}$', description: 'at most this many entries, the newest (default 100, at most 10000)' })),
  network: Type.Optional(Type.String({ maxLength: 63, description: 'only entries about this network' })),
}, strict);
