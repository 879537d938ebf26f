import t from 'tap';
import { HealthBook } from '../../src/controller/health-book.ts';

t.test('a handshake counts once two members vouch for it; never later than now; never is ignored; removed nodes are forgotten', async (t) => {
  const b = new HealthBook();
  const now = 1_800_000_000_000;
  b.report('office', 'r1', [{ nodeId: 'a', latestHandshake: now / 1000 - 60 }, { nodeId: 'b', latestHandshake: 0 }], now);
  t.equal(b.lastHandshake('office', 'a'), null, 'one member\'s word alone does not count');
  b.report('office', 'r2', [{ nodeId: 'a', latestHandshake: now / 1000 - 120 }], now);
  t.equal(b.lastHandshake('office', 'a'), now - 120_000, 'the second-freshest report counts');
  t.equal(b.lastHandshake('office', 'b'), null, 'never is ignored');
  t.equal(b.lastHandshake('other', 'a'), null, 'keyed by network');
  b.report('office', 'r1', [{ nodeId: 'c', latestHandshake: now / 1000 + 86_400 }], now);
  b.report('office', 'r2', [{ nodeId: 'c', latestHandshake: now / 1000 + 86_400 }], now);
  t.equal(b.lastHandshake('office', 'c'), now, 'never later than now');
  b.report('office', 'a', [{ nodeId: 'a', latestHandshake: now / 1000 }], now);
  b.forgetNode('office', 'r2');
  t.equal(b.lastHandshake('office', 'a'), null, 'a removed reporter\'s word is forgotten');
  b.forgetNetwork('office');
  t.equal(b.lastHandshake('office', 'c'), null);
});
