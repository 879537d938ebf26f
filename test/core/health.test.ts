import t from 'tap';
import assert from 'node:assert/strict';
import { nodeStatus, STALE_AFTER_MS, DOWN_AFTER_MS } from '../../src/core/health.ts';

const now = Date.parse('2026-11-26T12:00:00Z');
const ago = (ms: number) => new Date(now - ms).toISOString();

t.test('status: pending, healthy, stale, down', async () => {
  assert.equal(nodeStatus({ approved: false, lastContact: ago(0) }, now), 'pending');
  assert.equal(nodeStatus({ approved: true, lastContact: ago(1000) }, now), 'healthy');
  assert.equal(nodeStatus({ approved: true, lastContact: ago(STALE_AFTER_MS + 1) }, now), 'stale');
  assert.equal(nodeStatus({ approved: true, lastContact: ago(DOWN_AFTER_MS + 1) }, now), 'down');
  assert.equal(nodeStatus({ approved: true, lastContact: null }, now), 'down');
});

t.test('a recent handshake keeps a node healthy whose check-ins are old', async () => {
  assert.equal(nodeStatus({ approved: true, lastContact: ago(DOWN_AFTER_MS * 2), lastHandshake: now - 5000 }, now), 'healthy');
});
