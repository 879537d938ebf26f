// An in-memory DataSource for the dashboard's component tests and the render bench: networks,
// nodes, keys, records, clients and soft state held in maps; the event stream driven by emit();
// `down` makes every call fail as an unreachable controller does.
import { MeshError } from '../../src/core/errors.ts';
import { newNetwork, assertNoOverlap } from '../../src/core/network.ts';
import type { DnsRecord, ExtClient, MeshNode, Network } from '../../src/core/types.ts';
import type { KeyView } from '../../src/controller/services/views.ts';
import type { AuditEntry, DashEvent, DataSource, LinkState, NetworkSoftState, NodeSoftState } from '../../src/tui/source.ts';

export interface FakeSource extends DataSource {
  networks: Network[];
  nodes: MeshNode[];
  keys: KeyView[];
  records: DnsRecord[];
  clients: ExtClient[];
  soft: Map<string, NodeSoftState>;
  auditLog: AuditEntry[];
  /** Every call made, as "method arg1 arg2". */
  calls: string[];
  /** The public keys the controller was sent for new clients (never a private key). */
  sentClientKeys: string[];
  down: boolean;
  emit(e: DashEvent): void;
  link(s: LinkState): void;
  addNode(network: string, name: string, status?: MeshNode['status'], extra?: Partial<MeshNode>): MeshNode;
}

const unreachable = () => new MeshError('UNREACHABLE', 'cannot reach the controller at http://fake (ECONNREFUSED)', { hint: 'Start it with `meshctl server`' });

export function fakeSource(): FakeSource {
  let onEvent: ((e: DashEvent) => void) | undefined;
  let onLink: ((s: LinkState) => void) | undefined;
  let seq = 0;
  const s: FakeSource = {
    label: 'fake controller',
    networks: [],
    nodes: [],
    keys: [],
    records: [],
    clients: [],
    soft: new Map(),
    auditLog: [],
    calls: [],
    sentClientKeys: [],
    down: false,
    emit: (e) => onEvent?.(e),
    link: (l) => onLink?.(l),
    addNode(network, name, status = 'healthy', extra = {}) {
      const n: MeshNode = {
        id: `id-${name}`, name, network, address: `10.0.0.${s.nodes.length + 1}`, publicKey: `pk-${name}`, endpoint: `172.31.0.${s.nodes.length + 11}:51821`,
        listenPort: 51821, status, lastCheckin: new Date().toISOString(), ingress: false, egressRanges: [], egressNat: false, ...extra,
      };
      s.nodes.push(n);
      return n;
    },
    follow(e, l, signal) {
      onEvent = e;
      onLink = l;
      signal.addEventListener('abort', () => {
        onEvent = undefined;
        onLink = undefined;
      });
    },
    listNetworks: async () => s.networks.slice(),
    listNodes: async (network) => s.nodes.filter((n) => !network || n.network === network),
    showNode: async (network, name) => {
      const n = s.nodes.find((x) => x.network === network && x.name === name);
      if (!n) throw new MeshError('NOT_FOUND', `node "${name}" not found in network "${network}"`);
      return { ...n, peers: s.nodes.filter((x) => x.network === network && x !== n).map((x) => ({ name: x.name, path: 'direct' as const, endpoint: x.endpoint, winner: null, relay: null })) };
    },
    createNetwork: async (spec) => {
      assertNoOverlap(spec.cidr, s.networks);
      if (s.networks.some((n) => n.name === spec.name)) throw new MeshError('ALREADY_EXISTS', `network "${spec.name}" already exists`);
      const n = newNetwork(spec);
      s.networks.push(n);
      return n;
    },
    approveNode: async (network, name) => {
      const n = s.nodes.find((x) => x.network === network && x.name === name)!;
      n.status = 'healthy';
      return n;
    },
    deleteNode: async (network, name) => {
      const n = s.nodes.find((x) => x.network === network && x.name === name)!;
      s.nodes = s.nodes.filter((x) => x !== n);
      return n;
    },
    setIngress: async (network, name, on) => {
      const n = s.nodes.find((x) => x.network === network && x.name === name)!;
      n.ingress = on;
      return n;
    },
    setEgress: async (network, name, eg) => {
      const n = s.nodes.find((x) => x.network === network && x.name === name)!;
      n.egressRanges = eg?.ranges ?? [];
      n.egressNat = eg?.nat ?? false;
      return n;
    },
    networkStatus: async (network): Promise<NetworkSoftState> => ({
      network,
      nodes: s.nodes.filter((n) => n.network === network).map((n) => s.soft.get(n.id) ?? {
        id: n.id, name: n.name, address: n.address, endpoint: n.endpoint, listenPort: n.listenPort, status: n.status, lastContact: n.lastCheckin, version: 1, rxBytes: 0, txBytes: 0, handshakes: [],
      }),
    }),
    listKeys: async (network) => s.keys.filter((k) => k.network === network),
    createKey: async (network, req) => {
      const k: KeyView = { name: req.name ?? `key-${++seq}`, network, usesRemaining: req.uses === 'unlimited' ? null : (req.uses ?? 1), expiresAt: null, revoked: false, createdAt: new Date().toISOString() };
      s.keys.push(k);
      return { ...k, token: `mc1.SECRET-TOKEN-${k.name}-${'0123456789abcdef'.repeat(12)}` }; // as long as a real token
    },
    revokeKey: async (network, name) => {
      const k = s.keys.find((x) => x.network === network && x.name === name)!;
      k.revoked = true;
      return k;
    },
    listDns: async (network) => s.records.filter((r) => r.network === network),
    addDns: async (network, name, address) => {
      const r: DnsRecord = { name, network, address, source: 'custom', type: 'A' };
      s.records.push(r);
      return r;
    },
    removeDns: async (network, name) => {
      s.records = s.records.filter((r) => !(r.network === network && r.name === name));
    },
    listClients: async (network) => s.clients.filter((c) => c.network === network),
    createClient: async (network, req) => {
      // What src/cli/clients.ts does, against this fake: the pair is made here, only the public key goes out.
      const { generateKeyPair } = await import('../../src/core/wg-key.ts');
      const pair = generateKeyPair();
      s.sentClientKeys.push(pair.publicKey);
      const c: ExtClient = { name: req.name, network, address: '10.0.0.200', publicKey: pair.publicKey, gateway: req.gateway, enabled: true, dns: false, fullTunnel: false };
      s.clients.push(c);
      return { ...c, config: `[Interface]\nPrivateKey = ${pair.privateKey}\nAddress = 10.0.0.200/32\n` };
    },
    audit: async () => s.auditLog.slice(),
  };
  // Every call: recorded, and refused while the controller is "down".
  for (const k of Object.keys(s) as (keyof FakeSource)[]) {
    const f = s[k];
    if (typeof f !== 'function' || ['emit', 'link', 'addNode', 'follow'].includes(k)) continue;
    (s as unknown as Record<string, unknown>)[k] = async (...args: unknown[]) => {
      s.calls.push([k, ...args.map((a) => (typeof a === 'object' ? JSON.stringify(a) : String(a)))].join(' '));
      if (s.down) throw unreachable();
      return (f as (...a: unknown[]) => Promise<unknown>)(...args);
    };
  }
  return s;
}
