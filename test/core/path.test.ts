import t from 'tap';
import { stepPath, nextRetryAt, retryOffset, type PathInput, type PathState, type PathTimers } from '../../src/core/path.ts';
import type { Candidate } from '../../src/core/candidates.ts';

const T: PathTimers = { candidateWaitMs: 5000, retryDirectMs: 60_000 };
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

t.test('a retry that brings nothing goes back to the relay after trying each candidate', async (t) => {
  const relay = '198.51.100.5:40001';
  let s = stepPath(undefined, input({ relay }), T);
  const due = nextRetryAt(at0 + 1, T.retryDirectMs, 0);
  s = stepPath(s.state, input({ now: due, relay, endpoint: relay, rxBytes: 100 }), T);
  s = stepPath(s.state, input({ now: due + 5000, relay, endpoint: C[0]!.endpoint, rxBytes: 100 }), T);
  t.equal(s.endpoint, C[1]!.endpoint);
  s = stepPath(s.state, input({ now: due + 10_000, relay, endpoint: C[1]!.endpoint, rxBytes: 100 }), T);
  t.equal(s.state.phase, 'relayed');
  t.equal(s.endpoint, relay);
});

t.test('a direct path whose handshake goes stale is probed again', async (t) => {
  const direct: PathState = { phase: 'direct', tried: C.map((c) => c.endpoint), index: 0, since: at0, rxAtStart: 0, exhausted: false, winner: C[0]! };
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
