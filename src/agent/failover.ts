// Several controllers behind one mesh: which controller a node talks to. The join token names
// every controller's node API address in order; the node tries them in that order, with a short
// random pause between tries (so that nodes that lost the same controller do not all land on
// the next one in the same instant), stays on the one that answers, and moves on when it stops.
import { MeshError } from '../core/errors.ts';

/** Errors after which another controller may well answer: this one is down or cut off from its store. */
export const isUnreachable = (err: unknown): boolean => err instanceof MeshError && (err.code === 'UNREACHABLE' || err.code === 'STORE_UNAVAILABLE');

/** The controllers a network's state names, in the order to try them (state written before
 * issue 13 has only `server`). */
export const serversOf = (st: { server: string; servers?: string[] }): string[] => (st.servers?.length ? st.servers : [st.server]);

/** The pause before trying the next controller: 50-300 ms. */
export const failoverJitterMs = (): number => 50 + Math.random() * 250;

/** Calls `fn` on each of `servers` in turn, starting with `first` (the one that answered last
 * time, if known), until one answers: anything but an unreachable controller counts as an
 * answer, an error included. Throws the last unreachable error when none answers. */
export async function firstAnswering<T>(servers: string[], fn: (server: string) => Promise<T>, first?: string): Promise<{ server: string; result: T }> {
  const start = first ? Math.max(0, servers.indexOf(first)) : 0;
  const order = [...servers.slice(start), ...servers.slice(0, start)];
  let last: unknown;
  for (let i = 0; i < order.length; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, failoverJitterMs()));
    try {
      return { server: order[i]!, result: await fn(order[i]!) };
    } catch (err) {
      if (!isUnreachable(err)) throw err;
      last = err;
    }
  }
  if (order.length > 1 && last instanceof MeshError) {
    throw new MeshError(last.code, `none of the ${order.length} controllers answered (${order.join(', ')}); last: ${last.message}`, last.hint ? { hint: last.hint } : {});
  }
  throw last;
}

/** The controller list to use after a check-in reply named `reply`, or undefined when nothing
 * changes (or the reply names none, or something unsound). The controller in use (`current`)
 * stays on the list, first when the reply leaves it out: a node never drops the address that
 * works for it. */
export function newControllerList(known: string[], reply: string[], current: string): string[] | undefined {
  if (reply.length === 0 || reply.length > 16) return undefined;
  if (reply.some((s) => !/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/.test(s))) return undefined;
  const next = reply.includes(current) ? reply : [current, ...reply];
  if (next.length === known.length && next.every((s, i) => s === known[i])) return undefined;
  return next;
}
