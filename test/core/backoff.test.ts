import t from 'tap';
import assert from 'node:assert/strict';
import { backoffDelay } from '../../src/core/backoff.ts';

t.test('backoff grows, is capped at 30 s, and is jittered', async () => {
  assert.equal(backoffDelay(0, () => 1), 500);
  assert.equal(backoffDelay(3, () => 1), 4000);
  assert.equal(backoffDelay(10, () => 1), 30_000);
  assert.equal(backoffDelay(50, () => 1), 30_000);
  assert.equal(backoffDelay(10, () => 0), 250);
  const spread = new Set(Array.from({ length: 50 }, () => backoffDelay(10)));
  assert.ok(spread.size > 40, 'delays are spread out');
});
