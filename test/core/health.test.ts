import t from 'tap';
import assert from 'node:assert/strict';
import { nodeStatus, statusChangesAt, STALE_AFTER_MS, DOWN_AFTER_MS } from '../../src/core/health.ts';

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

t.test('statusChangesAt: the first instant the status differs, with no new sign of life', async () => {
  for (const h of [
    { approved: true, lastContact: ago(1000) },
    { approved: true, lastContact: ago(STALE_AFTER_MS) },
    { approved: true, lastContact: ago(STALE_AFTER_MS + 1) },
    { approved: true, lastContact: ago(DOWN_AFTER_MS) },
    { approved: true, lastContact: ago(DOWN_AFTER_MS * 2), lastHandshake: now - 5000 },
  ]) {
    const at = statusChangesAt(h, now);
    assert.ok(at !== null && at > now, JSON.stringify(h));
    assert.equal(nodeStatus(h, at - 1), nodeStatus(h, now), `unchanged just before (${JSON.stringify(h)})`);
    assert.notEqual(nodeStatus(h, at), nodeStatus(h, now), `changed at it (${JSON.stringify(h)})`);
  }
  // Time alone never changes these: pending, down, never seen.
  assert.equal(statusChangesAt({ approved: false, lastContact: ago(0) }, now), null);
  assert.equal(statusChangesAt({ approved: true, lastContact: ago(DOWN_AFTER_MS + 1) }, now), null);
  assert.equal(statusChangesAt({ approved: true, lastContact: null }, now), null);
});
