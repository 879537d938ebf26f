// Numbered schema migrations for the embedded store. Append only: never edit a shipped step.
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
  manual_approval INTEGER NOT NULL,
  version INTEGER NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE access_keys (
  network TEXT NOT NULL REFERENCES networks(name) ON DELETE CASCADE,
  name TEXT NOT NULL,
  secret_hash TEXT NOT NULL,
  uses_remaining INTEGER,
  expires_at TEXT,
  revoked INTEGER NOT NULL DEFAULT 0,
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
  endpoint_stated INTEGER NOT NULL DEFAULT 0,
  listen_port INTEGER NOT NULL,
  approved INTEGER NOT NULL,
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
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL
);
`,
  },
  {
    version: 2,
    name: 'tombstones of removed nodes',
    // A removed node that presents its (still valid) credential is told "removed", not "unauthenticated".
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
    // Tokens made before names existed keep working: the oldest is "initial", any other "initial-<rowid>".
    sql: `
ALTER TABLE admin_tokens ADD COLUMN name TEXT;
ALTER TABLE admin_tokens ADD COLUMN expires_at TEXT;
ALTER TABLE admin_tokens ADD COLUMN revoked_at TEXT;
UPDATE admin_tokens SET name = CASE WHEN rowid = (SELECT MIN(rowid) FROM admin_tokens) THEN 'initial' ELSE 'initial-' || rowid END;
CREATE UNIQUE INDEX admin_tokens_name ON admin_tokens (name);
`,
  },
  {
    version: 4,
    name: 'gateways and external clients',
    // Egress ranges are stored comma-separated and canonical. A client goes with its gateway node.
    // No private key of a client is ever stored: only its public key.
    sql: `
ALTER TABLE nodes ADD COLUMN ingress INTEGER NOT NULL DEFAULT 0;
ALTER TABLE nodes ADD COLUMN egress_ranges TEXT NOT NULL DEFAULT '';
ALTER TABLE nodes ADD COLUMN egress_nat INTEGER NOT NULL DEFAULT 0;
CREATE TABLE ext_clients (
  network TEXT NOT NULL REFERENCES networks(name) ON DELETE CASCADE,
  name TEXT NOT NULL,
  address TEXT NOT NULL,
  public_key TEXT NOT NULL,
  gateway_id TEXT NOT NULL REFERENCES nodes(id) ON DELETE CASCADE,
  enabled INTEGER NOT NULL DEFAULT 1,
  dns INTEGER NOT NULL DEFAULT 0,
  full_tunnel INTEGER NOT NULL DEFAULT 0,
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
ALTER TABLE networks ADD COLUMN dns INTEGER NOT NULL DEFAULT 1;
ALTER TABLE dns_records ADD COLUMN type TEXT NOT NULL DEFAULT 'A';
`,
  },
  {
    version: 6,
    name: 'address pools',
    // Each network's pool (core/ipam.ts Pool): every host below next_address is in use or listed
    // in free_addresses. NULL: not built yet; the first allocation builds it from the addresses in use.
    sql: `
ALTER TABLE networks ADD COLUMN next_address INTEGER;
CREATE TABLE free_addresses (
  network TEXT NOT NULL REFERENCES networks(name) ON DELETE CASCADE,
  address INTEGER NOT NULL,
  PRIMARY KEY (network, address)
);
`,
  },
  {
    version: 7,
    name: 'node health shared between controllers',
    // Twin of PostgreSQL's step 7, empty: one controller keeps node health in memory.
    sql: '-- nothing to change',
  },
];

export const LATEST_SCHEMA = MIGRATIONS[MIGRATIONS.length - 1]!.version;
