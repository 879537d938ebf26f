// Builds nodes' views from one read of a network's members per network version, shared by every
// view of that version (join replies, check-ins, Watch snapshots): N views cost one table read,
// not N.
import { MeshError } from '../../core/errors.ts';
import { buildView, type NodeView, type ViewClient } from '../../core/view.ts';
import type { Store, NodeRow } from '../store/store.ts';
import type { RecordView } from '../../core/dns.ts';

export class ViewBuilder {
  private readonly store: Store;
  private readonly members = new Map<string, { version: number; rows: NodeRow[]; clients: ViewClient[]; records: RecordView[] }>();

  constructor(store: Store) {
    this.store = store;
    store.subscribe((c) => this.members.delete(c.network));
  }

  /** The network's members (and external clients) as of its current version. */
  async membersOf(network: string): Promise<{ version: number; rows: NodeRow[]; clients: ViewClient[]; records: RecordView[] }> {
    const net = await this.store.getNetwork(network);
    if (!net) throw new MeshError('NODE_REMOVED', `network "${network}" no longer exists`);
    let m = this.members.get(network);
    if (!m || m.version !== net.version) {
      // Read after the version: the rows hold at least every change up to it.
      const rows = await this.store.listNodes(network);
      // Only ingress gateways have client peers: skip the read in a network without one.
      const clients = rows.some((r) => r.ingress) ? await this.store.listClients(network) : [];
      m = { version: net.version, rows, clients, records: await this.store.listRecords(network) };
      this.members.set(network, m);
    }
    return m;
  }

  /** The view of `node`: itself, its network's settings, its peers. */
  async view(node: NodeRow): Promise<NodeView> {
    const net = await this.store.getNetwork(node.network);
    if (!net) throw new MeshError('NODE_REMOVED', `network "${node.network}" no longer exists`);
    const m = await this.membersOf(node.network);
    const self = m.rows.find((r) => r.id === node.id) ?? node;
    return buildView(self, net, m.rows, m.clients, m.records);
  }
}
