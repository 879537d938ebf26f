// Numbered schema migrations for the PostgreSQL store. Append only: never edit a shipped step.
// Schema N here holds the same data as schema N of the embedded store (sqlite/migrations.ts),
// so a migration added there gets its twin here with the same number (a test checks that both
// lists end at the same version). Timestamps stay ISO 8601 text, as in the embedded store, so
// both engines return identical values.
export const MIGRATIONS: readonly { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
CREATE TABLE networks (
  name TEXT PRIMARY KEY,
  cidr TEXT NOT NULL,
  listen_port INTEGER NOT NULL,
  keepalive INTEGER NOT NULL,
  manual_approval BOOLEAN NOT NULL,
  version INTEGER NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE access_keys (
  network TEXT NOT NULL REFERENCES networks(name) ON DELETE CASCADE,
  name TEXT NOT NULL,
  secret_hash TEXT NOT NULL,
  uses_remaining INTEGER CHECK (uses_remaining >= 0),
  expires_at TEXT,
  revoked BOOLEAN NOT NULL DEFAULT false,
  created_at TEXT NOT NULL,
  PRIMARY KEY (network, name)
);
CREATE TABLE nodes (
  id TEXT PRIMARY KEY,
  network TEXT NOT NULL REFERENCES networks(name) ON DELETE CASCADE,
  name TEXT NOT NULL,
  address TEXT NOT NULL,
  public_key TEXT NOT NULL,
  endpoint TEXT,
  endpoint_stated BOOLEAN NOT NULL DEFAULT false,
  listen_port INTEGER NOT NULL,
  approved BOOLEAN NOT NULL,
  credential_hash TEXT NOT NULL,
  created_at TEXT NOT NULL,
  last_checkin TEXT,
  UNIQUE (network, name),
  UNIQUE (network, address),
  UNIQUE (network, public_key)
);
CREATE TABLE dns_records (
  network TEXT NOT NULL REFERENCES networks(name) ON DELETE CASCADE,
  name TEXT NOT NULL,
  address TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (network, name)
);
CREATE TABLE admin_tokens (
  token_hash TEXT PRIMARY KEY,
  created_at TEXT NOT NULL
);
CREATE TABLE audit_log (
  id BIGSERIAL PRIMARY KEY,
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL
);
-- The change log that carries pushes between controllers: one row per network version, written
-- in the transaction that made the change; NOTIFY carries only "network:version". No foreign
-- key: a network's deletion is itself a change.
CREATE TABLE changes (
  network TEXT NOT NULL,
  version INTEGER NOT NULL,
  change JSONB NOT NULL,
  at TEXT NOT NULL,
  PRIMARY KEY (network, version)
);
`,
  },
  {
    version: 2,
    name: 'tombstones of removed nodes',
    sql: `
CREATE TABLE removed_nodes (
  id TEXT PRIMARY KEY,
  network TEXT NOT NULL,
  name TEXT NOT NULL,
  credential_hash TEXT NOT NULL,
  reason TEXT NOT NULL,
  removed_at TEXT NOT NULL
);
`,
  },
  {
    version: 3,
    name: 'named, expiring, revocable admin tokens',
    // Tokens made before names existed keep working: the oldest is "initial", any other "initial-<n>".
    sql: `
ALTER TABLE admin_tokens ADD COLUMN name TEXT;
ALTER TABLE admin_tokens ADD COLUMN expires_at TEXT;
ALTER TABLE admin_tokens ADD COLUMN revoked_at TEXT;
UPDATE admin_tokens t SET name = CASE WHEN o.n = 1 THEN 'initial' ELSE 'initial-' || o.n END
  FROM (SELECT token_hash, row_number() OVER (ORDER BY created_at, token_hash) AS n FROM admin_tokens) o
  WHERE o.token_hash = t.token_hash;
CREATE UNIQUE INDEX admin_tokens_name ON admin_tokens (name);
`,
  },
  {
    version: 4,
    name: 'gateways and external clients',
    // Twin of the embedded store's migration 4. No private key of a client is ever stored.
    sql: `
ALTER TABLE nodes ADD COLUMN ingress BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE nodes ADD COLUMN egress_ranges TEXT NOT NULL DEFAULT '';
ALTER TABLE nodes ADD COLUMN egress_nat BOOLEAN NOT NULL DEFAULT false;
CREATE TABLE ext_clients (
  network TEXT NOT NULL REFERENCES networks(name) ON DELETE CASCADE,
  name TEXT NOT NULL,
  address TEXT NOT NULL,
  public_key TEXT NOT NULL,
  gateway_id TEXT NOT NULL REFERENCES nodes(id) ON DELETE CASCADE,
  enabled BOOLEAN NOT NULL DEFAULT true,
  dns BOOLEAN NOT NULL DEFAULT false,
  full_tunnel BOOLEAN NOT NULL DEFAULT false,
  created_at TEXT NOT NULL,
  PRIMARY KEY (network, name),
  UNIQUE (network, address),
  UNIQUE (network, public_key)
);
CREATE INDEX ext_clients_gateway ON ext_clients (gateway_id);
`,
  },
  {
    version: 5,
    name: 'private DNS: network domain and switch, record types',
    sql: `
ALTER TABLE networks ADD COLUMN domain TEXT;
UPDATE networks SET domain = name || '.internal';
ALTER TABLE networks ADD COLUMN dns BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE dns_records ADD COLUMN type TEXT NOT NULL DEFAULT 'A';
`,
  },
  {
    version: 6,
    name: 'address pools',
    // Twin of the embedded store's migration 6. Addresses as uint32 need BIGINT here.
    sql: `
ALTER TABLE networks ADD COLUMN next_address BIGINT;
CREATE TABLE free_addresses (
  network TEXT NOT NULL REFERENCES networks(name) ON DELETE CASCADE,
  address BIGINT NOT NULL,
  PRIMARY KEY (network, address)
);
`,
  },
  {
    version: 7,
    name: 'node health shared between controllers',
    // Soft state: the handshakes members reported with each other (ms since epoch), as far as
    // node status needs them (each controller writes the two freshest reporters per node it
    // knows of, at a bounded rate). The embedded store, one controller, keeps them in memory:
    // its twin step is empty. Rows go with their nodes.
    sql: `
CREATE TABLE node_health (
  subject TEXT NOT NULL REFERENCES nodes(id) ON DELETE CASCADE,
  reporter TEXT NOT NULL REFERENCES nodes(id) ON DELETE CASCADE,
  network TEXT NOT NULL,
  handshake_ms BIGINT NOT NULL,
  PRIMARY KEY (subject, reporter)
);
CREATE INDEX node_health_network ON node_health (network);
CREATE INDEX node_health_reporter ON node_health (reporter);
`,
  },
];

export const LATEST_SCHEMA = MIGRATIONS[MIGRATIONS.length - 1]!.version;
