import t from 'tap';
import { stepPath, nextRetryAt, retryOffset, type PathInput, type PathState, type PathTimers } from '../../src/core/path.ts';
import type { Candidate } from '../../src/core/candidates.ts';

const T: PathTimers = { candidateWaitMs: 5000, retryDirectMs: 60_000, retryWindowMs: 3000 };
const C: Candidate[] = [
  { endpoint: '203.0.113.2:51821', kind: 'observed' },
  { endpoint: '192.168.2.10:51821', kind: 'local' },
];
const at0 = 1_800_000_000_000;
const input = (o: Partial<PathInput>): PathInput => ({ now: at0, candidates: C, relay: '', handshakeAt: 0, endpoint: null, rxBytes: 0, retryOffsetMs: 0, ...o });

t.test('tries candidates in order, a wait each, and keeps the first that brings a handshake', async (t) => {
  let s = stepPath(undefined, input({}), T);
  t.equal(s.endpoint, C[0]!.endpoint);
  t.ok(s.nudge, 'a packet starts the handshake at once');
  s = stepPath(s.state, input({ now: at0 + 4000, endpoint: C[0]!.endpoint }), T);
  t.equal(s.endpoint, C[0]!.endpoint, 'still waiting');
  s = stepPath(s.state, input({ now: at0 + 5000, endpoint: C[0]!.endpoint }), T);
  t.equal(s.endpoint, C[1]!.endpoint, 'moves on');
  s = stepPath(s.state, input({ now: at0 + 6000, endpoint: C[1]!.endpoint, handshakeAt: at0 + 6000 }), T);
  t.equal(s.event, 'won');
  t.equal(s.state.phase, 'direct');
  t.same(s.state.winner, C[1]);
  t.equal(s.endpoint, null, 'direct: WireGuard keeps what it has, roaming included');
  s = stepPath(s.state, input({ now: at0 + 7000, endpoint: '192.168.2.99:51821', handshakeAt: at0 + 6000, rxBytes: 10 }), T);
  t.equal(s.state.phase, 'direct');
  t.equal(s.endpoint, null);
});

t.test('every candidate waited out: exhausted is reported once; a relay, once assigned, is used', async (t) => {
  let s = stepPath(undefined, input({}), T);
  s = stepPath(s.state, input({ now: at0 + 5000 }), T);
  s = stepPath(s.state, input({ now: at0 + 10_000 }), T);
  t.equal(s.event, 'exhausted');
  t.ok(s.state.exhausted);
  s = stepPath(s.state, input({ now: at0 + 15_000 }), T);
  s = stepPath(s.state, input({ now: at0 + 20_000 }), T);
  t.equal(s.event, null, 'not reported again while going round');
  s = stepPath(s.state, input({ now: at0 + 21_000, relay: '198.51.100.5:40001' }), T);
  t.equal(s.state.phase, 'relayed');
  t.equal(s.endpoint, '198.51.100.5:40001');
});

t.test('a relay assigned while still probing (the other end gave up first) is joined at once', async (t) => {
  const s0 = stepPath(undefined, input({}), T);
  const s = stepPath(s0.state, input({ now: at0 + 1000, relay: '198.51.100.5:40001' }), T);
  t.equal(s.state.phase, 'relayed');
  t.equal(s.event, 'exhausted');
  t.equal(s.endpoint, '198.51.100.5:40001');
});

t.test('relayed pairs retry direct at the same wall-clock moment at both ends, and stay direct when packets flow', async (t) => {
  const relay = '198.51.100.5:40001';
  const offset = retryOffset('a|b', T.retryDirectMs);
  let s = stepPath(undefined, input({ relay }), T);
  t.equal(s.state.phase, 'relayed');
  const due = nextRetryAt(at0 + 1, T.retryDirectMs, offset);
  s = stepPath(s.state, input({ now: due - 1, relay, endpoint: relay, handshakeAt: at0, rxBytes: 100, retryOffsetMs: offset }), T);
  t.equal(s.endpoint, relay, 'not yet');
  s = stepPath(s.state, input({ now: due, relay, endpoint: relay, handshakeAt: at0, rxBytes: 100, retryOffsetMs: offset }), T);
  t.equal(s.state.phase, 'retrying');
  t.equal(s.endpoint, C[0]!.endpoint);
  s = stepPath(s.state, input({ now: due + 5000, relay, endpoint: C[0]!.endpoint, handshakeAt: at0, rxBytes: 300, retryOffsetMs: offset }), T);
  t.equal(s.state.phase, 'direct');
  t.equal(s.event, 'won');
});

t.test('a retry that brings nothing goes back to the relay after its short window; the next retry takes the next candidate', async (t) => {
  const relay = '198.51.100.5:40001';
  let s = stepPath(undefined, input({ relay }), T);
  const due = nextRetryAt(at0 + 1, T.retryDirectMs, 0);
  s = stepPath(s.state, input({ now: due, relay, endpoint: relay, rxBytes: 100 }), T);
  t.equal(s.endpoint, C[0]!.endpoint);
  s = stepPath(s.state, input({ now: due + 3000, relay, endpoint: C[0]!.endpoint, rxBytes: 100 }), T);
  t.equal(s.state.phase, 'relayed');
  t.equal(s.endpoint, relay, 'back on the relay after 3 s, not one wait per candidate');
  const due2 = nextRetryAt(due + 3001, T.retryDirectMs, 0);
  s = stepPath(s.state, input({ now: due2, relay, endpoint: relay, rxBytes: 100 }), T);
  t.equal(s.endpoint, C[1]!.endpoint, 'the next retry tries the next candidate');
});

t.test('a retry slot missed by more than a tick is skipped: both ends retry in the same slot or not at all', async (t) => {
  const relay = '198.51.100.5:40001';
  // Relayed long ago with no candidates (a pair the controller knows cannot go direct) ...
  let s = stepPath(undefined, input({ relay, candidates: [] }), T);
  t.equal(s.state.phase, 'relayed');
  const slot = nextRetryAt(at0 + 1, T.retryDirectMs, 0);
  // ... candidates arrive 10 s after a slot passed (e.g. a restarted controller): no retry now.
  s = stepPath(s.state, input({ now: slot + 10_000, relay, endpoint: relay, rxBytes: 100 }), T);
  t.equal(s.state.phase, 'relayed', 'the missed slot is not made up late');
  t.equal(s.endpoint, relay);
  s = stepPath(s.state, input({ now: slot + T.retryDirectMs - 1, relay, endpoint: relay, rxBytes: 100 }), T);
  t.equal(s.state.phase, 'relayed', 'not before the next slot');
  s = stepPath(s.state, input({ now: slot + T.retryDirectMs + 900, relay, endpoint: relay, rxBytes: 100 }), T);
  t.equal(s.state.phase, 'retrying', 'the next slot, within a tick');
});

t.test('packets that came through the relay during a retry window do not count as a direct path', async (t) => {
  const relay = '198.51.100.5:40001';
  let s = stepPath(undefined, input({ relay }), T);
  const due = nextRetryAt(at0 + 1, T.retryDirectMs, 0);
  s = stepPath(s.state, input({ now: due, relay, endpoint: relay, rxBytes: 100 }), T);
  t.equal(s.state.phase, 'retrying');
  // The other end is still on the relay: its packets arrive through it and WireGuard roams back.
  s = stepPath(s.state, input({ now: due + 1000, relay, endpoint: relay, rxBytes: 400 }), T);
  t.equal(s.endpoint, C[0]!.endpoint, 'the direct candidate is set again for the rest of the window');
  s = stepPath(s.state, input({ now: due + 2000, relay, endpoint: relay, rxBytes: 700 }), T);
  // The window ends with WireGuard on the candidate the agent set, nothing received since.
  s = stepPath(s.state, input({ now: due + 3000, relay, endpoint: C[0]!.endpoint, rxBytes: 700 }), T);
  t.equal(s.state.phase, 'relayed', 'back on the relay, not a false direct');
  t.equal(s.endpoint, relay);
  t.equal(s.event, null);
});

t.test('a direct path whose handshake goes stale is probed again', async (t) => {
  const direct: PathState = { phase: 'direct', current: null, attempted: [], since: at0, rxAtStart: 0, exhausted: false, winner: C[0]! };
  const s = stepPath(direct, input({ now: at0 + 200_000, handshakeAt: at0, endpoint: C[0]!.endpoint }), T);
  t.equal(s.event, 'lost');
  t.equal(s.state.phase, 'probing');
  t.equal(s.endpoint, C[0]!.endpoint);
});

t.test('a peer with a working session at start is direct at once (agent restart)', async (t) => {
  const s = stepPath(undefined, input({ handshakeAt: at0 - 10_000, endpoint: '203.0.113.2:51821' }), T);
  t.equal(s.state.phase, 'direct');
  t.equal(s.endpoint, null);
});

t.test('a candidate that arrives while probing is tried next, not from the start', async (t) => {
  let s = stepPath(undefined, input({ candidates: [C[0]!] }), T);
  const more = [{ endpoint: '203.0.113.2:40404', kind: 'observed' as const }, C[0]!];
  s = stepPath(s.state, input({ now: at0 + 1000, candidates: more }), T);
  t.equal(s.endpoint, C[0]!.endpoint, 'the current one keeps its wait');
  s = stepPath(s.state, input({ now: at0 + 5000, candidates: more }), T);
  t.equal(s.endpoint, '203.0.113.2:40404');
  s = stepPath(s.state, input({ now: at0 + 10_000, candidates: more }), T);
  t.equal(s.event, 'exhausted', 'two waits in all');
});

t.test('hardNat: a port other than the listen port seen from elsewhere', async (t) => {
  t.equal(hardNat(51821, [51821, 51821]), false);
  t.equal(hardNat(51821, [51821, 40123]), true);
  t.equal(hardNat(51821, []), false);
});

t.test('no candidates and no relay: nothing to choose', async (t) => {
  const s = stepPath(undefined, input({ candidates: [] }), T);
  t.equal(s.state.phase, 'idle');
  t.equal(s.endpoint, null);
});

t.test('retry times are shared by both ends and spread over pairs', async (t) => {
  t.equal(nextRetryAt(120_000, 60_000, 5000), 125_000);
  t.equal(nextRetryAt(126_000, 60_000, 5000), 185_000);
  t.equal(retryOffset('a|b', 60_000), retryOffset('a|b', 60_000));
  t.ok(retryOffset('a|b', 60_000) < 60_000);
});

import { hardNat, relayDecision, type PathReport } from '../../src/core/path.ts';

t.test('relayDecision: a relay for an exhausted pair with both ends in contact; released when both are direct', async (t) => {
  const now = at0;
  const r = (path: PathReport['path'], exhausted: boolean, age = 0): PathReport => ({ path, exhausted, at: now - age });
  const base = { assigned: false, aHealthy: true, bHealthy: true, now };
  t.equal(relayDecision({ ...base, a: r('probing', true), b: r('probing', true) }), 'assign');
  t.equal(relayDecision({ ...base, a: r('probing', true) }), 'keep', 'the other end has not tried yet (still coming up)');
  t.equal(relayDecision({ ...base, a: r('probing', true), b: r('probing', false) }), 'keep', 'the other end is still trying');
  t.equal(relayDecision({ ...base, a: r('probing', false), b: r('probing', false) }), 'keep', 'still trying');
  t.equal(relayDecision({ ...base, a: r('probing', true), b: r('probing', true), bHealthy: false }), 'keep', 'the other end is not in contact');
  t.equal(relayDecision({ ...base, a: r('probing', true), b: r('direct', true) }), 'keep', 'one end has a handshake');
  t.equal(relayDecision({ ...base, a: r('probing', true, 200_000), b: r('probing', true) }), 'keep', 'an old report');
  t.equal(relayDecision({ ...base, assigned: true, a: r('direct', false), b: r('relayed', true) }), 'keep');
  t.equal(relayDecision({ ...base, assigned: true, a: r('direct', false), b: r('direct', false) }), 'release');
  t.equal(relayDecision({ ...base, hopeless: true }), 'assign', 'a pair that cannot go direct is relayed before its candidates fail');
  t.equal(relayDecision({ ...base, hopeless: true, bHealthy: false }), 'keep');
});

t.test('a pair moved to another relay (its relay died) follows it: the old relay is not taken for a roamed direct path', async (t) => {
  const r1 = '198.51.100.5:40001';
  const r2 = '198.51.100.6:41001';
  let s = stepPath(undefined, input({ relay: r1 }), T);
  s = stepPath(s.state, input({ now: at0 + 1000, relay: r1, endpoint: r1, handshakeAt: at0, rxBytes: 100 }), T);
  t.equal(s.state.phase, 'relayed');
  // The controller pushes the new relay; WireGuard still holds r1 and packets came in meanwhile.
  s = stepPath(s.state, input({ now: at0 + 2000, relay: r2, endpoint: r1, handshakeAt: at0 + 1, rxBytes: 500 }), T);
  t.equal(s.state.phase, 'relayed', 'still relayed, not "direct via the old relay"');
  t.equal(s.endpoint, r2, 'WireGuard is pointed at the new relay');
  t.equal(s.event, null);
  s = stepPath(s.state, input({ now: at0 + 3000, relay: r2, endpoint: r2, handshakeAt: at0 + 1, rxBytes: 900 }), T);
  t.equal(s.state.phase, 'relayed');
  t.equal(s.endpoint, r2);
});
