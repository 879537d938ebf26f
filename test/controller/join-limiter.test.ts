import t from 'tap';
import assert from 'node:assert/strict';
import { JoinLimiter } from '../../src/controller/node-api/join-limiter.ts';

t.test('failed joins from one address are limited without affecting others, until the window passes', async () => {
  const l = new JoinLimiter(3, 60_000);
  const t0 = 1_000_000;
  for (let i = 0; i < 3; i++) {
    l.check('10.0.0.1', t0);
    l.fail('10.0.0.1', t0);
  }
  assert.throws(() => l.check('10.0.0.1', t0 + 1000), { code: 'RATE_LIMITED' });
  assert.doesNotThrow(() => l.check('10.0.0.2', t0 + 1000));
  assert.doesNotThrow(() => l.check('10.0.0.1', t0 + 61_000));
});
