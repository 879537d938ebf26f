// NAT traversal for a one-shot check-in (`meshctl checkin`, run by cron with no daemon): the
// agent's per-peer steps (traversal.ts) on a 1 s tick, for as long as some peer still has
// candidates it has not waited out, within a budget: the first that brings a handshake is kept,
// and what won or failed goes to the controller in the same run, so that it can assign a relay.
// Cron starts every node's check-in at the same second, so both ends of a pair probe together.
import { Traversal, pathTimersFromEnv } from './traversal.ts';
import { readActual, resetPeer } from '../platform/wireguard.ts';
import type { AgentEnv } from './node.ts';
import type { NetworkState } from './state.ts';
import type { NodeView } from '../core/view.ts';
import type { PathUpdate } from '../core/change.ts';
import type { ReportedPeer } from './client.ts';

export interface ProbeResult {
  /** What changed on the interface. */
  changes: string[];
  /** What won or failed, per peer (log lines). */
  events: string[];
  /** The peers as the follow-up check-in reports them. */
  handshakes: ReportedPeer[];
}

/** Longest a one-shot check-in spends on candidates (cron runs it every minute). */
export const PROBE_BUDGET_MS = 40_000;

/** Tries the candidates of every peer that has no working path; null when no peer needed it. */
export async function probeOnce(
  env: AgentEnv, st: NetworkState, view: NodeView, paths: PathUpdate,
  /** Applies the view with these endpoints (node.ts applyView); returns the changes. */
  apply: (endpoints: ReadonlyMap<string, string | null>) => Promise<string[]>,
  o: { budgetMs?: number; tickMs?: number } = {},
): Promise<ProbeResult | null> {
  const tr = new Traversal(pathTimersFromEnv());
  const end = Date.now() + (o.budgetMs ?? PROBE_BUDGET_MS);
  const out: ProbeResult = { changes: [], events: [], handshakes: [] };
  for (let first = true; ; first = false) {
    const actual = await readActual(env.runner, st.interface).catch(() => null);
    const r = tr.tick(view, paths, actual?.peers ?? null);
    if (first && !tr.probing) return null;
    for (const k of r.resets) await resetPeer(env.runner, st.interface, k).catch(() => {});
    if (r.changed) out.changes.push(...(await apply(tr.endpoints)));
    if (env.nudge) for (const a of r.nudges) void env.nudge(a);
    for (const e of r.events) env.log?.(`${st.network}: ${e}`);
    out.events.push(...r.events);
    if (!tr.probing || Date.now() >= end) {
      out.handshakes = (actual?.peers ?? []).map((p) => ({ publicKey: p.publicKey, latestHandshake: p.latestHandshake, rxBytes: p.rxBytes, txBytes: p.txBytes, ...tr.report(p) }));
      return out;
    }
    await new Promise((res) => setTimeout(res, o.tickMs ?? 1000));
  }
}
