import t from 'tap';
import assert from 'node:assert/strict';
import { HealthBook } from '../../src/controller/health-book.ts';

t.test('the latest reported handshake wins; never later than now; never is ignored', async () => {
  const b = new HealthBook();
  const now = 1_800_000_000_000;
  b.report([{ publicKey: 'a', latestHandshake: now / 1000 - 60 }], now);
  b.report([{ publicKey: 'a', latestHandshake: now / 1000 - 120 }, { publicKey: 'b', latestHandshake: 0 }], now);
  assert.equal(b.lastHandshake('a'), now - 60_000);
  assert.equal(b.lastHandshake('b'), null);
  b.report([{ publicKey: 'c', latestHandshake: now / 1000 + 86_400 }], now);
  assert.equal(b.lastHandshake('c'), now);
  b.forget('a');
  assert.equal(b.lastHandshake('a'), null);
});
