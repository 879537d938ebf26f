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
  /** How often a relayed pair tries direct again. */
  retryDirectMs: number;
}

export const DEFAULT_PATH_TIMERS: PathTimers = { candidateWaitMs: 5_500, retryDirectMs: 60_000 };

/** WireGuard drops a session this old (REJECT_AFTER_TIME): a handshake older than this is no longer a working path. */
export const HANDSHAKE_FRESH_MS = 180_000;

export interface PathState {
  phase: Phase;
  /** The candidates being tried, as endpoints (a new list restarts probing). */
  tried: string[];
  index: number;
  /** ms when the current candidate (or phase) started. */
  since: number;
  /** rx bytes when the current retry window started. */
  rxAtStart: number;
  /** True once every candidate was waited out without a handshake, until one works. */
  exhausted: boolean;
  winner: Candidate | null;
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
}

const fresh = (i: PathInput) => i.handshakeAt > 0 && i.now - i.handshakeAt < HANDSHAKE_FRESH_MS;
/** The handshake happened after `since` (WireGuard reports whole seconds). */
const since = (i: PathInput, t: number) => i.handshakeAt > 0 && i.handshakeAt + 1000 >= t;
const sameList = (a: string[], b: string[]) => a.length === b.length && a.every((x, k) => x === b[k]);

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

function winnerOf(i: PathInput, fallback: Candidate | undefined): Candidate | null {
  return i.candidates.find((c) => c.endpoint === i.endpoint) ?? (i.endpoint ? { endpoint: i.endpoint, kind: 'observed' } : (fallback ?? null));
}

const start = (i: PathInput, exhausted: boolean): PathState => ({
  phase: 'probing', tried: i.candidates.map((c) => c.endpoint), index: 0, since: i.now, rxAtStart: i.rxBytes, exhausted, winner: null,
});

/** Direct with a relay still assigned, but nothing received for this long: the direct path is gone. */
export const DIRECT_SILENT_MS = 60_000;

/** One step for one peer. `prev` undefined: the peer is new to this worker. */
export function stepPath(prev: PathState | undefined, i: PathInput, t: PathTimers = DEFAULT_PATH_TIMERS): PathStep {
  const list = i.candidates.map((c) => c.endpoint);
  const step = (state: PathState, endpoint: string | null, event: PathStep['event'] = null, nudge = false): PathStep => ({ state, endpoint, event, nudge });
  const relayed = (s: PathState, event: PathStep['event'] = null) =>
    step({ ...s, phase: 'relayed', tried: list, index: 0, since: i.now, rxAtStart: i.rxBytes }, i.relay, event, true);
  if (list.length === 0 && !i.relay) {
    return step({ phase: 'idle', tried: [], index: 0, since: i.now, rxAtStart: i.rxBytes, exhausted: false, winner: null }, null);
  }
  // A peer that already has a working session (an agent restart, or WireGuard roamed by itself) is direct.
  if (prev === undefined && fresh(i) && i.endpoint && i.endpoint !== i.relay) {
    return step({ ...start(i, false), phase: 'direct', winner: winnerOf(i, undefined) }, null, 'won');
  }
  let s = prev ?? start(i, false);
  if (s.phase === 'idle') s = start(i, false);
  switch (s.phase) {
    case 'direct': {
      const moved = i.rxBytes !== s.rxAtStart;
      if (moved) s = { ...s, rxAtStart: i.rxBytes, since: i.now };
      const silent = i.relay !== '' && i.now - s.since > DIRECT_SILENT_MS;
      if (fresh(i) && i.endpoint !== i.relay && !silent) return step(s, null);
      if (i.relay) return relayed({ ...s, winner: null }, 'lost');
      return step(start(i, false), list[0] ?? null, 'lost', true);
    }
    case 'probing': {
      if (!sameList(s.tried, list)) s = start(i, s.exhausted);
      if (s.index < list.length && since(i, s.since) && i.endpoint !== i.relay) {
        return step({ ...s, phase: 'direct', exhausted: false, since: i.now, rxAtStart: i.rxBytes, winner: winnerOf(i, i.candidates[s.index]) }, null, 'won');
      }
      // The other end gave up on direct and the controller gave the pair a relay: join it there.
      if (i.relay) return relayed({ ...s, exhausted: true }, s.exhausted ? null : 'exhausted');
      if (s.index < list.length && i.now - s.since < t.candidateWaitMs) return step(s, list[s.index]!, null, s.since === i.now);
      const index = s.index + 1;
      if (index < list.length) return step({ ...s, index, since: i.now }, list[index]!, null, true);
      // Every candidate waited out, no relay yet: say so once, and go round again (the peer's
      // NAT may open meanwhile) until the controller assigns one.
      return step({ ...s, index: 0, since: i.now, exhausted: true }, list[0] ?? null, s.exhausted ? null : 'exhausted', true);
    }
    case 'relayed': {
      if (!i.relay) return step(start(i, true), list[0] ?? null, null, true);
      // WireGuard roamed to a direct address by itself (the other end's retry got through): keep it.
      if (fresh(i) && i.endpoint && i.endpoint !== i.relay && i.rxBytes > s.rxAtStart && list.length) {
        return step({ ...s, phase: 'direct', exhausted: false, since: i.now, rxAtStart: i.rxBytes, winner: winnerOf(i, undefined) }, null, 'won');
      }
      const due = nextRetryAt(s.since + 1, t.retryDirectMs, i.retryOffsetMs);
      if (list.length && i.now >= due) {
        return step({ ...s, phase: 'retrying', tried: list, index: 0, since: i.now, rxAtStart: i.rxBytes }, list[0]!, null, true);
      }
      return step({ ...s, rxAtStart: i.rxBytes }, i.relay);
    }
    case 'retrying': {
      // Both ends switched at the same moment; packets that come through keep WireGuard on the
      // direct address (it roams to where authenticated packets come from).
      const direct = i.endpoint !== null && i.endpoint !== i.relay;
      if (i.now - s.since < t.candidateWaitMs) return step(s, direct ? null : list[s.index] ?? null, null, true);
      if (direct && i.rxBytes > s.rxAtStart) {
        return step({ ...s, phase: 'direct', exhausted: false, since: i.now, rxAtStart: i.rxBytes, winner: winnerOf(i, i.candidates[s.index]) }, null, 'won');
      }
      const index = s.index + 1;
      if (index < list.length && i.relay) return step({ ...s, index, since: i.now, rxAtStart: i.rxBytes }, list[index]!, null, true);
      if (!i.relay) return step(start(i, true), list[0] ?? null, null, true);
      return relayed(s);
    }
  }
  return step(s, null);
}

/** What a peer's path is called in `status` and `nodes show`. */
export const pathName = (s: PathState | undefined): 'direct' | 'relayed' | 'probing' =>
  s?.phase === 'relayed' ? 'relayed' : s?.phase === 'direct' || s?.phase === 'idle' || s === undefined ? 'direct' : 'probing';
