// NAT traversal, the agent's half: for one peer, which endpoint to give WireGuard now, as a pure
// step function over what WireGuard reports. The worker calls it on a timer and applies the
// endpoint it returns; the controller decides the relay from what the steps report.
//
//   probing --handshake--> direct --handshake stale--> probing
//   probing --every candidate waited out--> exhausted (reported); relayed once a relay is assigned
//   relayed --synchronised retry time--> retrying --direct packets flow--> direct
//                                                 --window over--> relayed
import type { Candidate } from './candidates.ts';

export type Phase = 'idle' | 'probing' | 'direct' | 'relayed' | 'retrying';

export interface PathTimers {
  /** How long one candidate gets to bring a handshake (WireGuard retries an initiation every 5 s). */
  candidateWaitMs: number;
  /** How often a relayed pair tries direct again (one candidate each time, in turn). */
  retryDirectMs: number;
  /** How long a retry holds the direct candidate: the session exists, so packets flow at once
   * if the NATs let them; meanwhile the relay is not used. */
  retryWindowMs: number;
}

export const DEFAULT_PATH_TIMERS: PathTimers = { candidateWaitMs: 5_500, retryDirectMs: 60_000, retryWindowMs: 3_000 };

/** WireGuard drops a session this old (REJECT_AFTER_TIME): a handshake older than this is no longer a working path. */
export const HANDSHAKE_FRESH_MS = 180_000;

export interface PathState {
  phase: Phase;
  /** The candidate being tried now (probing, retrying). */
  current: string | null;
  /** Candidates tried in this round: a candidate that arrives later is tried next, not from the start. */
  attempted: string[];
  /** ms when the current candidate (or phase) started. */
  since: number;
  /** rx bytes at the last step (relayed, direct) or when the retry window started. */
  rxAtStart: number;
  /** True once every candidate was waited out without a handshake, until one works. */
  exhausted: boolean;
  winner: Candidate | null;
  /** The relay endpoint this end moved to (relayed, retrying): a different one from the
   * controller means the pair moved to another relay, not that WireGuard roamed. */
  relay?: string;
}

export interface PathInput {
  now: number;
  candidates: Candidate[];
  /** The relay endpoint the controller assigned this pair ('' = none). */
  relay: string;
  /** Latest handshake as ms since epoch (0 = never). */
  handshakeAt: number;
  /** The endpoint WireGuard holds for the peer now (null = none). */
  endpoint: string | null;
  rxBytes: number;
  /** Offset (ms) of this pair's retry time within each retry period: the same at both ends. */
  retryOffsetMs: number;
}

export interface PathStep {
  state: PathState;
  /** The endpoint WireGuard should hold; null = leave what it has (a roamed endpoint is kept). */
  endpoint: string | null;
  /** Something the controller should hear about now. */
  event: 'won' | 'exhausted' | 'lost' | null;
  /** True when the worker should send a packet through the tunnel (start a handshake, test a path). */
  nudge: boolean;
  /** True when the worker should drop the peer's handshake state first (entering the relay with
   * no session: the handshake through the relay then starts at once, not up to 5 s later). */
  reset?: boolean;
}

const fresh = (i: PathInput) => i.handshakeAt > 0 && i.now - i.handshakeAt < HANDSHAKE_FRESH_MS;
/** The handshake happened after `since` (WireGuard reports whole seconds). */
const since = (i: PathInput, t: number) => i.handshakeAt > 0 && i.handshakeAt + 1000 >= t;

/** The next time at or after `now` that is `offset` into a period of `period` ms (wall clock: both ends agree). */
export function nextRetryAt(now: number, period: number, offset: number): number {
  const base = now - (now % period) + (offset % period);
  return base >= now ? base : base + period;
}

/** A stable offset in [0, period) for a pair, from its key: both ends compute the same one. */
export function retryOffset(pair: string, period: number): number {
  let h = 0x811c9dc5;
  for (let k = 0; k < pair.length; k++) h = Math.imul(h ^ pair.charCodeAt(k), 0x01000193) >>> 0;
  return h % period;
}

function winnerOf(i: PathInput, fallback: Candidate | null | undefined): Candidate | null {
  return i.candidates.find((c) => c.endpoint === i.endpoint) ?? (i.endpoint ? { endpoint: i.endpoint, kind: 'observed' } : (fallback ?? null));
}

const fresh0 = (phase: Phase, i: PathInput, exhausted: boolean): PathState => ({
  phase, current: null, attempted: [], since: i.now, rxAtStart: i.rxBytes, exhausted, winner: null,
});

/** How late in its slot an end may still start a retry: a tick (1 s) and some margin. */
const retryLateMs = (t: PathTimers) => Math.min(2_500, t.retryDirectMs / 4);

/** Direct with a relay still assigned, but nothing received for this long: the direct path is gone. */
export const DIRECT_SILENT_MS = 60_000;

/** One step for one peer. `prev` undefined: the peer is new to this worker. */
export function stepPath(prev: PathState | undefined, i: PathInput, t: PathTimers = DEFAULT_PATH_TIMERS): PathStep {
  const list = i.candidates.map((c) => c.endpoint);
  const byEndpoint = (e: string | null) => i.candidates.find((c) => c.endpoint === e);
  const step = (state: PathState, endpoint: string | null, event: PathStep['event'] = null, nudge = false): PathStep => ({ state, endpoint, event, nudge });
  const relayed = (s: PathState, event: PathStep['event'] = null) => ({
    ...step({ ...s, phase: 'relayed', current: null, attempted: [], since: i.now, rxAtStart: i.rxBytes, relay: i.relay }, i.relay, event, true),
    reset: !fresh(i),
  });
  const direct = (s: PathState, winner: Candidate | null) =>
    step({ ...s, phase: 'direct', current: null, attempted: [], exhausted: false, since: i.now, rxAtStart: i.rxBytes, winner }, null, 'won');
  /** Moves to the next candidate not yet tried in this round; null when every one was. */
  const next = (s: PathState): PathState | null => {
    const attempted = s.current ? [...s.attempted, s.current] : s.attempted;
    const c = list.find((e) => !attempted.includes(e));
    return c === undefined ? null : { ...s, current: c, attempted, since: i.now, rxAtStart: i.rxBytes };
  };
  if (list.length === 0 && !i.relay) return step(fresh0('idle', i, false), null);
  // A peer that already has a working session (an agent restart, or WireGuard roamed by itself) is direct.
  if (prev === undefined && fresh(i) && i.endpoint && i.endpoint !== i.relay) return direct(fresh0('probing', i, false), winnerOf(i, null));
  let s = prev && prev.phase !== 'idle' ? prev : fresh0('probing', i, false);
  switch (s.phase) {
    case 'direct': {
      if (i.rxBytes !== s.rxAtStart) s = { ...s, rxAtStart: i.rxBytes, since: i.now };
      const silent = i.relay !== '' && i.now - s.since > DIRECT_SILENT_MS;
      if (fresh(i) && i.endpoint !== i.relay && !silent) return step(s, null);
      if (i.relay) return relayed({ ...s, winner: null }, 'lost');
      const n = next(fresh0('probing', i, false));
      return step(n ?? fresh0('probing', i, false), n?.current ?? null, 'lost', true);
    }
    case 'probing': {
      if (s.current !== null && since(i, s.since) && i.endpoint !== i.relay) return direct(s, winnerOf(i, byEndpoint(s.current)));
      // The other end gave up on direct, or the pair cannot go direct: the controller gave it a relay.
      if (i.relay) return relayed({ ...s, exhausted: true }, s.exhausted ? null : 'exhausted');
      const waiting = s.current !== null && list.includes(s.current) && i.now - s.since < t.candidateWaitMs;
      if (waiting) return step(s, s.current, null, false);
      const n = next(s);
      if (n) return step(n, n.current, null, true);
      // Every candidate waited out, no relay yet: say so once, and go round again (the peer's
      // NAT may open meanwhile) until the controller assigns one.
      const again = next({ ...s, current: null, attempted: [], exhausted: true })!;
      return step(again, again.current, s.exhausted ? null : 'exhausted', true);
    }
    case 'relayed': {
      if (!i.relay) {
        const n = next(fresh0('probing', i, true));
        return step(n ?? fresh0('probing', i, true), n?.current ?? null, null, true);
      }
      // The pair moved to another relay (its relay went away): WireGuard still holds the old one.
      if (s.relay !== undefined && s.relay !== i.relay) return relayed(s);
      // WireGuard roamed to a direct address by itself (the other end's retry got through): keep it.
      if (fresh(i) && i.endpoint && i.endpoint !== i.relay && i.rxBytes > s.rxAtStart && list.length) return direct(s, winnerOf(i, null));
      // The pair's latest retry slot: both ends switch in it, or neither (a slot missed by more
      // than a tick, e.g. candidates that arrived late, waits for the next one: an end that
      // switched alone would only lose the relay's packets for the window).
      const slot = nextRetryAt(i.now - t.retryDirectMs + 1, t.retryDirectMs, i.retryOffsetMs);
      if (list.length && slot > s.since && i.now - slot <= retryLateMs(t)) {
        // One candidate per retry, the next untried one (both ends hold the same list).
        const n = next({ ...s, phase: 'retrying', current: null }) ?? next({ ...s, phase: 'retrying', current: null, attempted: [] })!;
        return step({ ...n, rxAtStart: i.rxBytes }, n.current, null, true);
      }
      return step({ ...s, rxAtStart: i.rxBytes }, i.relay);
    }
    case 'retrying': {
      // Both ends switched at the same moment; packets that come through keep WireGuard on the
      // direct address (it roams to where authenticated packets come from).
      const onDirect = i.endpoint !== null && i.endpoint !== i.relay;
      if (!i.relay) return step({ ...fresh0('probing', i, true), current: s.current, since: s.since }, s.current, null, false);
      if (s.relay !== undefined && s.relay !== i.relay) return relayed(s);
      // WireGuard roamed back to the relay: the other end's packets still come through it. What
      // was received so far proves nothing about the direct path: count from here.
      const rxAtStart = onDirect ? s.rxAtStart : i.rxBytes;
      if (i.now - s.since < t.retryWindowMs) return step({ ...s, rxAtStart }, onDirect ? null : s.current, null, true);
      if (onDirect && i.rxBytes > rxAtStart) return direct(s, winnerOf(i, byEndpoint(s.current)));
      const attempted = s.current ? [...s.attempted, s.current] : s.attempted;
      return step({ ...s, phase: 'relayed', current: null, attempted, since: i.now, rxAtStart: i.rxBytes, relay: i.relay }, i.relay, null, true);
    }
  }
  return step(s, null);
}

/** What a peer's path is called in `status` and `nodes show`. */
export const pathName = (s: PathState | undefined): 'direct' | 'relayed' | 'probing' =>
  s?.phase === 'relayed' ? 'relayed' : s?.phase === 'direct' || s?.phase === 'idle' || s === undefined ? 'direct' : 'probing';

/** What one end of a pair last reported about the other. */
export interface PathReport {
  path: 'direct' | 'relayed' | 'probing' | '';
  exhausted: boolean;
  /** ms since epoch of the report. */
  at: number;
}

/** A report older than this says nothing about the pair any more. */
export const REPORT_TTL_MS = 120_000;

/**
 * The controller's relay-or-direct decision for a pair: assign a relay when both ends have tried
 * every candidate without a handshake (or the pair is `hopeless`: see hardNat) and neither end has
 * a direct path, while both are in contact with the controller; release it once both ends say
 * they are direct again.
 */
export function relayDecision(d: { assigned: boolean; a?: PathReport; b?: PathReport; aHealthy: boolean; bHealthy: boolean; now: number; hopeless?: boolean }): 'assign' | 'release' | 'keep' {
  const live = (r?: PathReport) => (r && d.now - r.at <= REPORT_TTL_MS ? r : undefined);
  const a = live(d.a);
  const b = live(d.b);
  if (d.assigned) return a?.path === 'direct' && b?.path === 'direct' ? 'release' : 'keep';
  // Both ends, not one: an end that waited out its candidates while the other was still coming up
  // (its interface not there yet) has not shown that direct cannot work.
  if (!((a?.exhausted && b?.exhausted) || d.hopeless)) return 'keep';
  if (a?.path === 'direct' || b?.path === 'direct') return 'keep';
  return d.aHealthy && d.bHealthy ? 'assign' : 'keep';
}

/**
 * Whether a node sits behind a NAT that maps its WireGuard port anew per destination (symmetric
 * style): a peer at another site observed it on a port other than its listen port. Its mapping
 * towards any other peer is then unknown in advance, and a pair of it and another NATed node
 * cannot go direct: the controller relays such pairs without waiting for the candidates to fail.
 */
export function hardNat(listenPort: number, observedPorts: readonly number[]): boolean {
  return observedPorts.some((p) => p !== listenPort);
}
