// Server configuration: flags > environment > config file > defaults (CLI.md).
// The command layer hands in flags already merged with MESHCTL_* variables.
import { readFileSync, existsSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join, resolve } from 'node:path';
import YAML from 'yaml';
import { MeshError } from '../core/errors.ts';
import { formatHostPort, parseHostPort, type HostPort } from '../core/address.ts';
import { CONFIG_FILE, defaultDataDir } from './paths.ts';
import { parseStoreSpec } from './store/open.ts';

export interface ServerConfig {
  dataDir: string;
  api: HostPort | null;
  grpc: HostPort | null;
  publicHost: string;
  /** The ciphertext relay's well-known UDP address; null (--no-relay) or absent: no relay. */
  relay?: HostPort | null;
  /** Serve the admin API over plain HTTP instead of HTTPS (--api-insecure). */
  apiInsecure?: boolean;
  /** "sqlite" (embedded, in the data directory) or a postgres:// URL. */
  store: string;
  /** Where the CA (ca.crt, ca.key) lives when several controllers share it; default <data-dir>/tls. */
  caDir?: string;
  /** Join every network as a node too (`--node`, config key `node`); the command runs the agent. */
  node?: boolean;
  /** Where the config file came from, if any. */
  configFile: string | null;
  /** The unauthenticated /metrics, /healthz, /readyz listener (absent or null: none). `explicit`:
   * the operator named the address, so failing to listen there is fatal; the default address
   * (127.0.0.1:9090, which a local Prometheus may hold) is only warned about. */
  metrics?: { addr: HostPort; explicit: boolean } | null;
}

export const DEFAULT_METRICS_ADDR = '127.0.0.1:9090';

export interface ServerInputs {
  dataDir?: string;
  config?: string;
  apiAddr?: string;
  grpcAddr?: string;
  noApi?: boolean;
  noGrpc?: boolean;
  publicHost?: string;
  relayAddr?: string;
  noRelay?: boolean;
  apiInsecure?: boolean;
  store?: string;
  metricsAddr?: string;
  noMetrics?: boolean;
  caDir?: string;
  node?: boolean;
}

const FILE_KEYS = ['apiAddr', 'grpcAddr', 'noApi', 'noGrpc', 'publicHost', 'relayAddr', 'noRelay', 'store', 'caDir', 'metricsAddr', 'noMetrics', 'apiInsecure', 'node'] as const;

function readConfigFile(path: string): Partial<Record<(typeof FILE_KEYS)[number], string | boolean>> {
  let doc: unknown;
  try {
    doc = YAML.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new MeshError('CONFIG_INVALID', `reading config file ${path}: ${(err as Error).message}`, { hint: 'Fix the YAML, or start without --config' });
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new MeshError('CONFIG_INVALID', `config file ${path} must be a YAML mapping`);
  const unknown = Object.keys(doc).filter((k) => !(FILE_KEYS as readonly string[]).includes(k));
  if (unknown.length) {
    throw new MeshError('CONFIG_INVALID', `config file ${path} has unknown key${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`, {
      hint: `Known keys: ${FILE_KEYS.join(', ')}`,
    });
  }
  for (const [k, v] of Object.entries(doc)) {
    const boolKey = k === 'noApi' || k === 'noGrpc' || k === 'noRelay' || k === 'noMetrics' || k === 'apiInsecure' || k === 'node';
    if (boolKey ? typeof v !== 'boolean' : typeof v !== 'string') {
      throw new MeshError('CONFIG_INVALID', `config file ${path}: "${k}" must be a ${boolKey ? 'boolean' : 'string'}`);
    }
  }
  return doc as Partial<Record<(typeof FILE_KEYS)[number], string | boolean>>;
}

/** The host's first non-loopback IPv4 address, for join tokens when --public-host is not set. */
export function firstNonLoopbackIPv4(): string | undefined {
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}

/** The node API addresses join tokens name, from `--public-host HOST[:PORT][,HOST[:PORT]…]`: a
 * host without a port takes this controller's `grpcPort`. Order is kept (agents try them in it). */
export function publicAddrs(publicHost: string, grpcPort: number): string[] {
  const parts = publicHost.split(',').map((p) => p.trim());
  if (parts.some((p) => p === '')) throw new MeshError('CONFIG_INVALID', `public host list "${publicHost}" has an empty entry`, { hint: 'Separate hosts with single commas: --public-host 10.0.0.2,10.0.0.3' });
  return [...new Set(parts.map((p) => formatHostPort(parseHostPort(p, 'public host', grpcPort))))];
}

/** Merges inputs with the config file and defaults into a validated configuration. */
export function resolveServerConfig(inputs: ServerInputs): ServerConfig {
  const dataDir = resolve(inputs.dataDir ?? defaultDataDir());
  const configFile = inputs.config ? resolve(inputs.config) : existsSync(join(dataDir, CONFIG_FILE)) ? join(dataDir, CONFIG_FILE) : null;
  if (inputs.config && !existsSync(inputs.config)) {
    throw new MeshError('CONFIG_INVALID', `config file ${inputs.config} does not exist`, { hint: 'Check the path given to --config or MESHCTL_CONFIG' });
  }
  const file = configFile ? readConfigFile(configFile) : {};
  const pick = <T>(flag: T | undefined, fromFile: unknown, dflt: T): T => (flag !== undefined ? flag : fromFile !== undefined ? (fromFile as T) : dflt);
  const noApi = pick(inputs.noApi, file.noApi, false);
  const noGrpc = pick(inputs.noGrpc, file.noGrpc, false);
  const api = noApi ? null : parseHostPort(pick(inputs.apiAddr, file.apiAddr, '0.0.0.0:8081'), 'api address');
  const grpc = noGrpc ? null : parseHostPort(pick(inputs.grpcAddr, file.grpcAddr, '0.0.0.0:50051'), 'grpc address');
  const noRelay = pick(inputs.noRelay, file.noRelay, false);
  const relay = noRelay ? null : parseHostPort(pick(inputs.relayAddr, file.relayAddr, '0.0.0.0:3478'), 'relay address');
  const publicHost = pick(inputs.publicHost, file.publicHost, undefined as string | undefined) ?? firstNonLoopbackIPv4() ?? '127.0.0.1';
  const apiInsecure = pick(inputs.apiInsecure, file.apiInsecure, false);
  const store = pick(inputs.store, file.store, 'sqlite');
  parseStoreSpec(store);
  publicAddrs(publicHost, 50051); // validates every entry
  const caDir = pick(inputs.caDir, file.caDir, undefined as string | undefined);
  const named = inputs.metricsAddr ?? (file.metricsAddr as string | undefined);
  const metrics = pick(inputs.noMetrics, file.noMetrics, false) ? null : { addr: parseHostPort(named ?? DEFAULT_METRICS_ADDR, 'metrics address'), explicit: named !== undefined };
  const node = pick(inputs.node, file.node, false) === true;
  return { dataDir, api, grpc, publicHost, relay, store, apiInsecure, ...(caDir ? { caDir: resolve(caDir) } : {}), ...(node ? { node } : {}), configFile, metrics };
}
