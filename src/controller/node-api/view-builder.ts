// Builds nodes' views from one read of a network's members per network version, shared by every
// view of that version (join replies, check-ins, Watch snapshots): N views cost one table read,
// not N. On an engine whose reads are asynchronous (PostgreSQL), N views asked for at once share
// the one read in flight instead of each starting its own (N reads of N rows each).
import { MeshError } from '../../core/errors.ts';
import { buildView, type NodeView, type ViewClient } from '../../core/view.ts';
import type { Network } from '../../core/types.ts';
import type { Store, NodeRow } from '../store/store.ts';
import type { RecordView } from '../../core/dns.ts';

export interface Members {
  version: number;
  rows: NodeRow[];
  clients: ViewClient[];
  records: RecordView[];
}

export class ViewBuilder {
  private readonly store: Store;
  private readonly members = new Map<string, { version: number; read: Promise<Members> }>();

  constructor(store: Store) {
    this.store = store;
    store.subscribe((c) => this.members.delete(c.network));
  }

  /** The network's members (and external clients) as of its current version. */
  async membersOf(network: string): Promise<Members> {
    return (await this.current(network)).members;
  }

  private async current(network: string): Promise<{ net: Network; members: Members }> {
    const net = await this.store.getNetwork(network);
    if (!net) throw new MeshError('NODE_REMOVED', `network "${network}" no longer exists`);
    let m = this.members.get(network);
    if (!m || m.version !== net.version) {
      const entry = { version: net.version, read: this.read(network, net.version) };
      m = entry;
      this.members.set(network, entry);
      // a failed read is not kept: the next caller tries again
      entry.read.catch(() => {
        if (this.members.get(network) === entry) this.members.delete(network);
      });
    }
    return { net, members: await m.read };
  }

  private async read(network: string, version: number): Promise<Members> {
    // Read after the version: the rows hold at least every change up to it.
    const rows = await this.store.listNodes(network);
    // Only ingress gateways have client peers: skip the read in a network without one.
    const clients = rows.some((r) => r.ingress) ? await this.store.listClients(network) : [];
    return { version, rows, clients, records: await this.store.listRecords(network) };
  }

  /** The view of `node`: itself, its network's settings, its peers. */
  async view(node: NodeRow): Promise<NodeView> {
    const { net, members: m } = await this.current(node.network);
    const self = m.rows.find((r) => r.id === node.id) ?? node;
    return buildView(self, net, m.rows, m.clients, m.records);
  }
}
