import t from 'tap';
import assert from 'node:assert/strict';
import { age, bytes, cell, latestHandshake, pairState, sparkline, type PairNode } from '../../src/tui/format.ts';
import { toDashEvent } from '../../src/tui/admin-source.ts';

t.test('age, bytes, cell, sparkline', async () => {
  const now = Date.parse('2026-11-26T12:00:00Z');
  assert.equal(age(null, now), 'never');
  assert.equal(age('2026-11-26T11:59:18Z', now), '42s');
  assert.equal(age('2026-11-26T11:30:00Z', now), '30m');
  assert.equal(age('2026-11-26T06:00:00Z', now), '6h');
  assert.equal(age('2026-11-20T12:00:00Z', now), '6d');
  assert.equal(bytes(900), '900B');
  assert.equal(bytes(1536), '1.5K');
  assert.equal(bytes(50 * 1024 * 1024), '50M');
  assert.equal(cell('abcdef', 4), 'abc…');
  assert.equal(cell('ab', 4, true), '  ab');
  assert.equal(sparkline([0, 0], 4), '  ▁▁');
  assert.equal(sparkline([1, 2, 4, 8], 4), '▁▂▄█');
});

t.test('pair state: ok on a fresh handshake from either side, broken between two up nodes, unknown otherwise', async () => {
  const now = Date.parse('2026-11-26T12:00:00Z');
  const n = (name: string, status: string, hs: [string, string | null][] = []): PairNode => ({ id: `id-${name}`, name, publicKey: `pk-${name}`, status, handshakes: hs.map(([p, at]) => ({ peer: p, publicKey: `pk-${p}`, at })) });
  assert.equal(pairState(n('a', 'healthy', [['b', '2026-11-26T11:59:00Z']]), n('b', 'healthy'), now), 'ok');
  assert.equal(pairState(n('a', 'healthy'), n('b', 'stale', [['a', '2026-11-26T11:58:00Z']]), now), 'ok');
  assert.equal(pairState(n('a', 'healthy', [['b', '2026-11-26T11:50:00Z']]), n('b', 'healthy'), now), 'broken');
  assert.equal(pairState(n('a', 'healthy'), n('b', 'pending'), now), 'unknown');
  assert.equal(latestHandshake({ handshakes: [{ peer: 'x', publicKey: 'x', at: '2026-11-26T11:00:00Z' }, { peer: 'y', publicKey: 'y', at: '2026-11-26T11:30:00Z' }, { peer: 'z', publicKey: 'z', at: null }] } as never), '2026-11-26T11:30:00Z');
});

t.test('server-sent events to dashboard events', async () => {
  assert.deepEqual(toDashEvent({ event: 'change', id: '5', data: '{"kind":"dns","network":"a","version":2,"upserted":[],"removed":[]}' }),
    { type: 'change', id: '5', change: { kind: 'dns', network: 'a', version: 2, upserted: [], removed: [] } });
  assert.deepEqual(toDashEvent({ event: 'status', data: '{"network":"a","nodeId":"i","name":"n","status":"stale","lastContact":null}' }),
    { type: 'status', network: 'a', nodeId: 'i', name: 'n', status: 'stale', lastContact: null });
  assert.deepEqual(toDashEvent({ event: 'reset', data: '' }), { type: 'reset' });
  assert.deepEqual(toDashEvent({ event: 'change', data: 'not json' }), { type: 'reset' });
  assert.equal(toDashEvent({ event: 'other', data: '{}' }), undefined);
});
