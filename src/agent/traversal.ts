// NAT traversal in the agent: keeps one path state per peer (core/path.ts) and turns what
// WireGuard reports into the endpoint each peer should have, packets to send through the tunnel,
// and events the controller should hear about at once. No I/O here: the worker reads WireGuard,
// applies the endpoints and sends the nudges.
import { pairKey, type Candidate, type CandidateKind } from '../core/candidates.ts';
import { DEFAULT_PATH_TIMERS, pathName, retryOffset, stepPath, type PathState, type PathTimers } from '../core/path.ts';
import { defaultPath, pathFor, type PathUpdate } from '../core/change.ts';
import type { NodeView } from '../core/view.ts';
import type { WgPeerState } from '../core/wg-diff.ts';
import type { ReportedPeer } from './client.ts';

export interface TickResult {
  /** True when some peer's desired endpoint changed: apply the view again. */
  changed: boolean;
  /** Mesh addresses to send a packet to. */
  nudges: string[];
  /** Human lines for the log; non-empty means the controller should hear now. */
  events: string[];
  /** Peers (public keys) whose handshake state to drop before applying. */
  resets: string[];
}

const KINDS: readonly string[] = ['stated', 'local', 'observed', 'controller'];
const asCandidates = (cs: readonly { endpoint: string; kind: string }[]): Candidate[] =>
  cs.filter((c) => c.endpoint).map((c) => ({ endpoint: c.endpoint, kind: (KINDS.includes(c.kind) ? c.kind : 'observed') as CandidateKind }));

/** Path timers from the environment (tests shorten them); the defaults are the real ones. */
export function pathTimersFromEnv(env: NodeJS.ProcessEnv = process.env): PathTimers {
  const ms = (v: string | undefined, d: number) => (v && /^\d+$/.test(v) && Number(v) > 0 ? Number(v) : d);
  return {
    candidateWaitMs: ms(env.MESHCTL_CANDIDATE_WAIT_MS, DEFAULT_PATH_TIMERS.candidateWaitMs),
    retryDirectMs: ms(env.MESHCTL_RETRY_DIRECT_MS, DEFAULT_PATH_TIMERS.retryDirectMs),
    retryWindowMs: ms(env.MESHCTL_RETRY_WINDOW_MS, DEFAULT_PATH_TIMERS.retryWindowMs),
  };
}

export class Traversal {
  private readonly states = new Map<string, PathState>();
  /** public key -> the endpoint WireGuard should hold (null: keep what it has). Peers absent here take the view's. */
  readonly endpoints = new Map<string, string | null>();
  private readonly timers: PathTimers;

  constructor(timers: PathTimers = DEFAULT_PATH_TIMERS) {
    this.timers = timers;
  }

  /** True while some peer needs attention every second (probing, relayed, retrying). */
  get busy(): boolean {
    for (const s of this.states.values()) if (s.phase !== 'direct' && s.phase !== 'idle') return true;
    return false;
  }

  /** True while some peer is still trying candidates it has not all waited out once. */
  get probing(): boolean {
    for (const s of this.states.values()) if ((s.phase === 'probing' && !s.exhausted) || s.phase === 'retrying') return true;
    return false;
  }

  /** One step for every peer that has paths. `wg` is `wg show` of the interface (null: not up). */
  tick(view: NodeView, paths: PathUpdate | undefined, wg: readonly WgPeerState[] | null, now = Date.now()): TickResult {
    const out: TickResult = { changed: false, nudges: [], events: [], resets: [] };
    const byKey = new Map((paths?.paths ?? []).map((p) => [p.publicKey, p]));
    const live = new Map((wg ?? []).map((p) => [p.publicKey, p]));
    const keep = new Set<string>();
    for (const peer of view.peers) {
      const path = pathFor(paths, byKey, peer);
      if (!path) continue; // no NAT traversal for it (an older controller, no endpoint): the view's
      keep.add(peer.publicKey);
      const w = live.get(peer.publicKey);
      const step = stepPath(this.states.get(peer.publicKey), {
        now,
        candidates: asCandidates(path.candidates),
        relay: path.relay,
        handshakeAt: (w?.latestHandshake ?? 0) * 1000,
        endpoint: w?.endpoint ?? null,
        rxBytes: w?.rxBytes ?? 0,
        retryOffsetMs: retryOffset(pairKey(view.self.id, peer.id), this.timers.retryDirectMs),
      }, this.timers);
      const before = this.states.get(peer.publicKey);
      this.states.set(peer.publicKey, step.state);
      const had = this.endpoints.get(peer.publicKey);
      if (!this.endpoints.has(peer.publicKey) || had !== step.endpoint) {
        this.endpoints.set(peer.publicKey, step.endpoint);
        if (step.endpoint !== null) out.changed = true;
      }
      if (step.nudge) out.nudges.push(peer.address);
      if (step.reset && w) {
        out.resets.push(peer.publicKey);
        out.changed = true;
      }
      if (step.event === 'won') out.events.push(`${peer.name}: direct via ${step.state.winner?.endpoint ?? w?.endpoint} (${step.state.winner?.kind ?? 'roamed'})`);
      else if (step.event === 'exhausted') out.events.push(`${peer.name}: no handshake on any of ${path.candidates.length} candidate(s)${path.relay ? `; relayed via ${path.relay}` : ''}`);
      else if (step.event === 'lost') out.events.push(`${peer.name}: direct path lost; probing again`);
      else if (step.state.phase === 'relayed' && (before?.phase !== 'relayed' || before.relay !== step.state.relay)) out.events.push(`${peer.name}: relayed via ${path.relay}`);
    }
    for (const k of [...this.states.keys()]) {
      if (!keep.has(k)) {
        this.states.delete(k);
        this.endpoints.delete(k);
      }
    }
    return out;
  }

  /** What the check-in says about each peer: the path, whether every candidate failed, what won. */
  report(peer: WgPeerState): Pick<ReportedPeer, 'endpoint' | 'path' | 'exhausted' | 'winner'> {
    const s = this.states.get(peer.publicKey);
    return {
      endpoint: peer.endpoint ?? '',
      path: s ? pathName(s) : '',
      exhausted: s?.exhausted ?? false,
      winner: s?.phase === 'direct' ? s.winner : null,
    };
  }
}

/** The path a peer is on, judged from outside the worker (status, cron check-ins): relayed when
 * WireGuard holds the pair's relay endpoint. Also the candidate it holds, if any. */
export function pathOf(paths: PathUpdate | undefined, publicKey: string, endpoint: string | null, viewEndpoint = ''): { path: 'direct' | 'relayed'; candidate: Candidate | null } {
  const p = paths?.paths.find((x) => x.publicKey === publicKey) ?? (paths ? defaultPath({ publicKey, endpoint: viewEndpoint }) : null);
  if (p && p.relay && endpoint === p.relay) return { path: 'relayed', candidate: null };
  const c = p?.candidates.find((x) => x.endpoint === endpoint);
  return { path: 'direct', candidate: c ? asCandidates([c])[0]! : null };
}

/** Endpoints for a one-shot check-in (cron) or a join: the relay when the pair has one; else,
 * for a peer WireGuard has no endpoint for, the first candidate. Other peers are left to the
 * view and the diff's roaming rule (a one-shot check-in does not probe). */
export function staticEndpoints(view: NodeView, paths: PathUpdate | undefined, wg: readonly WgPeerState[] | null): Map<string, string | null> {
  const out = new Map<string, string | null>();
  const live = new Map((wg ?? []).map((p) => [p.publicKey, p]));
  for (const p of paths?.paths ?? []) {
    if (!view.peers.some((v) => v.publicKey === p.publicKey)) continue;
    if (p.relay) out.set(p.publicKey, p.relay);
    else if (!live.get(p.publicKey)?.endpoint && p.candidates[0]) out.set(p.publicKey, p.candidates[0].endpoint);
  }
  return out;
}
