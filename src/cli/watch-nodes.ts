// `meshctl nodes list [NETWORK] --watch`: the node table, then one line (or JSON line) per event of
// the controller's event stream, until the signal aborts. A reset lists the nodes again.
import type { Change } from '../core/change.ts';
import type { MeshNode } from '../core/types.ts';
import type { SseEvent } from '../core/sse.ts';
import type { AdminClient } from './admin-client.ts';
import { adminApi } from './admin-api.ts';
import { followEvents, type StatusEvent } from './event-stream.ts';
import { nodesTable } from './render.ts';

export interface WatchOptions {
  network?: string;
  json: boolean;
  signal: AbortSignal;
  /** Where lines go (stdout) and where connection notes go (stderr). */
  out(line: string): void;
  note(line: string): void;
  /** Backoff tuning (tests). */
  backoff?: { baseMs: number; capMs: number };
  idleMs?: number;
}

const clock = (d = new Date()) => d.toTimeString().slice(0, 8);

/** One human line for a change; `known` maps node ids to the last known node (names for removals). */
export function changeLine(c: Change, known: Map<string, { name: string }>): string {
  switch (c.kind) {
    case 'node-upserted': {
      const n = c.node;
      const what = known.has(n.id) ? 'updated' : 'joined';
      return `${n.name} ${what}: ${n.address}, endpoint ${n.endpoint ?? '-'}, ${n.approved ? 'approved' : 'pending approval'} (version ${c.version})`;
    }
    case 'node-removed':
      return `${known.get(c.nodeId)?.name ?? c.nodeId} removed (version ${c.version})`;
    case 'settings':
      return `settings changed: port ${c.settings.listenPort}, keepalive ${c.settings.keepalive}s, domain ${c.settings.domain ?? '-'} (version ${c.version})`;
    case 'dns': {
      const parts = [...c.upserted.map((r) => `${r.name} -> ${r.address}`), ...c.removed.map((n) => `${n} removed`)];
      return `dns: ${parts.join(', ') || 'changed'} (version ${c.version})`;
    }
    case 'network-deleted':
      return 'network deleted';
    case 'resync':
      return `resynchronised (version ${c.version})`;
  }
}

export const statusLine = (s: StatusEvent): string => `${s.name} is ${s.status} (last contact ${s.lastContact ?? 'never'})`;

/** Lists, then follows; resolves when `signal` aborts, rejects on an error no retry can fix. */
export async function watchNodes(client: AdminClient, o: WatchOptions): Promise<void> {
  const api = adminApi(client);
  const known = new Map<string, { name: string }>();
  const snapshot = async () => {
    const ns: MeshNode[] = await api.listNodes(o.network);
    known.clear();
    for (const n of ns) known.set(n.id, n);
    o.out(o.json ? JSON.stringify({ event: 'snapshot', data: ns }) : nodesTable(ns));
  };
  const onEvent = async (e: SseEvent) => {
    if (e.event === 'reset') {
      if (o.json) o.out(JSON.stringify({ event: 'reset', id: e.id }));
      else o.note('the event stream was reset: listing again');
      return snapshot();
    }
    if (e.event !== 'change' && e.event !== 'status') return;
    const data = JSON.parse(e.data) as Change | StatusEvent;
    if (o.json) return o.out(JSON.stringify({ event: e.event, id: e.id, data }));
    const net = data.network;
    if (e.event === 'change') {
      const c = data as Change;
      o.out(`${clock()}  ${net}  ${changeLine(c, known)}`);
      if (c.kind === 'node-upserted') known.set(c.node.id, c.node);
      else if (c.kind === 'node-removed') known.delete(c.nodeId);
    } else o.out(`${clock()}  ${net}  ${statusLine(data as StatusEvent)}`);
  };
  await followEvents(client, {
    ...(o.network ? { network: o.network } : {}),
    signal: o.signal,
    // The stream is open before the list is read, so that nothing falls between the two.
    onOpen: async (reconnected) => {
      if (!reconnected) await snapshot();
      else o.note('reconnected to the event stream');
    },
    onEvent,
    onDrop: (err, ms) => o.note(`event stream lost (${err.message}); reconnecting in ${(ms / 1000).toFixed(1)} s`),
    ...(o.backoff ? { backoff: o.backoff } : {}),
    ...(o.idleMs ? { idleMs: o.idleMs } : {}),
  });
}
