// Wires the admin event stream to the controller: every change the store fans out becomes a
// `change` event (its public fields only), every node status change a `status` event.
import type { Change } from '../../core/change.ts';
import type { ViewNode } from '../../core/view.ts';
import type { MeshNode } from '../../core/types.ts';
import { EventLog, type EventLogOptions } from './event-log.ts';
import { StatusTracker, type StatusTrackerOptions } from './status-tracker.ts';

/** A change as admins see it: the store hands its whole row to listeners (the credential hash
 * included), so a node is cut down to the fields of ViewNode before it is serialised. */
export function publicChange(c: Change): Change {
  if (c.kind !== 'node-upserted') return c;
  const n = c.node;
  const node: ViewNode = {
    id: n.id, name: n.name, address: n.address, publicKey: n.publicKey, endpoint: n.endpoint, listenPort: n.listenPort, approved: n.approved,
    ...(n.ingress !== undefined ? { ingress: n.ingress } : {}),
    ...(n.egressRanges !== undefined ? { egressRanges: n.egressRanges } : {}),
    ...(n.egressNat !== undefined ? { egressNat: n.egressNat } : {}),
    ...(n.clientAddresses !== undefined ? { clientAddresses: n.clientAddresses } : {}),
  };
  return { ...c, node };
}

export interface EventFeed {
  log: EventLog;
  status: StatusTracker;
  /** A node checked in or opened a stream: its status may have changed. */
  contact(network: string, id: string): void;
  /** Members reported handshakes with these nodes: one seen stale or down may be alive again. */
  handshakes(network: string, ids: Iterable<string>): void;
  close(): void;
}

export function startEventFeed(
  subscribe: (listener: (c: Change) => void) => () => void,
  nodes: (network?: string) => Promise<MeshNode[]>,
  node: (network: string, id: string) => Promise<MeshNode | undefined>,
  opts: EventLogOptions & StatusTrackerOptions = {},
): EventFeed {
  const log = new EventLog(opts);
  const status = new StatusTracker(nodes, node, (e) => log.publish('status', e.network, e), opts);
  void status.sweep(); // the baseline
  const unsubscribe = subscribe((c) => {
    // A resync (PostgreSQL: this controller may hold stale state of the network) is no change an
    // admin can apply: subscribers of that network start over from a snapshot, as after a reset.
    if (c.kind === 'resync') {
      log.publish('reset', c.network, {});
      return void status.sweep(c.network);
    }
    log.publish('change', c.network, publicChange(c));
    if (c.kind === 'node-upserted') status.touch(c.network, c.node.id);
    else if (c.kind === 'node-removed') status.forget(c.network, c.nodeId);
    else if (c.kind === 'network-deleted') status.forget(c.network);
  });
  return {
    log,
    status,
    contact: (network, id) => status.touch(network, id),
    handshakes: (network, ids) => status.handshakes(network, ids),
    close: () => {
      unsubscribe();
      status.close();
      log.close();
    },
  };
}
