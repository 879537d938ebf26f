// Builds nodes' views from one read of a network's members per network version, shared by every
// view of that version (join replies, check-ins, Watch snapshots): N views cost one table read,
// not N.
import { MeshError } from '../../core/errors.ts';
import { buildView, type NodeView } from '../../core/view.ts';
import type { Store, NodeRow } from '../store/store.ts';
import type { RecordView } from '../../core/dns.ts';

export class ViewBuilder {
  private readonly store: Store;
  private readonly members = new Map<string, { version: number; rows: NodeRow[]; records: RecordView[] }>();

  constructor(store: Store) {
    this.store = store;
    store.subscribe((c) => this.members.delete(c.network));
  }

  /** The network's members as of its current version. */
  async membersOf(network: string): Promise<{ version: number; rows: NodeRow[]; records: RecordView[] }> {
    const net = await this.store.getNetwork(network);
    if (!net) throw new MeshError('NODE_REMOVED', `network "${network}" no longer exists`);
    let m = this.members.get(network);
    if (!m || m.version !== net.version) {
      // Read after the version: the rows hold at least every change up to it.
      m = { version: net.version, rows: await this.store.listNodes(network), records: await this.store.listRecords(network) };
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
    return buildView(self, net, m.rows, m.records);
  }
}
