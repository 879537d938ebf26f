import t from 'tap';
import { candidatesFor, pairKey, OBSERVATION_TTL_MS, type NatFacts } from '../../src/core/candidates.ts';

const now = 1_800_000_000_000;
const node = (id: string, site: string | null, lan: string[], extra: Partial<NatFacts> = {}): NatFacts => ({
  id, listenPort: 51821, stated: null, site, localAddresses: lan, observed: [], ...extra,
});

t.test('a peer at another site: observed endpoints newest first, then the controller observation; no LAN addresses', async (t) => {
  const self = node('a', '198.51.100.1', ['192.168.1.10']);
  const peer = node('b', '203.0.113.2', ['192.168.2.10'], {
    observed: [
      { endpoint: '203.0.113.2:40000', at: now - 60_000, observerSite: '198.51.100.9' },
      { endpoint: '203.0.113.2:51821', at: now - 1_000, observerSite: '198.51.100.9' },
    ],
  });
  t.same(candidatesFor(self, peer, now), [
    { endpoint: '203.0.113.2:51821', kind: 'observed' },
    { endpoint: '203.0.113.2:40000', kind: 'observed' },
  ]);
});

t.test('two nodes behind one NAT get each other\'s LAN addresses first (no hairpin needed)', async (t) => {
  const self = node('a', '198.51.100.1', ['192.168.1.10']);
  const peer = node('b', '198.51.100.1', ['192.168.1.11', '10.0.0.5']);
  t.same(candidatesFor(self, peer, now).map((c) => `${c.kind} ${c.endpoint}`), [
    'local 192.168.1.11:51821',
    'local 10.0.0.5:51821',
    'controller 198.51.100.1:51821',
  ]);
});

t.test('a stated endpoint comes first; duplicates appear once, under their first kind', async (t) => {
  const peer = node('b', '203.0.113.2', [], {
    stated: '203.0.113.2:51821',
    observed: [{ endpoint: '203.0.113.2:51821', at: now, observerSite: null }],
  });
  t.same(candidatesFor(node('a', null, []), peer, now), [{ endpoint: '203.0.113.2:51821', kind: 'stated' }]);
});

t.test('observations from the peer\'s own site (LAN addresses) and old ones are not offered', async (t) => {
  const peer = node('b', '203.0.113.2', ['192.168.2.10'], {
    observed: [
      { endpoint: '192.168.2.10:51821', at: now, observerSite: '203.0.113.2' },
      { endpoint: '203.0.113.2:1234', at: now - OBSERVATION_TTL_MS - 1, observerSite: '198.51.100.1' },
    ],
  });
  t.same(candidatesFor(node('a', '198.51.100.1', []), peer, now), [{ endpoint: '203.0.113.2:51821', kind: 'controller' }]);
});

t.test('with nothing public known, LAN addresses are the last resort', async (t) => {
  t.same(candidatesFor(node('a', '198.51.100.1', []), node('b', null, ['192.168.2.10']), now), [{ endpoint: '192.168.2.10:51821', kind: 'local' }]);
  t.same(candidatesFor(node('a', null, []), node('b', null, []), now), []);
});

t.test('pairKey does not depend on the order of the two nodes', async (t) => {
  t.equal(pairKey('x', 'y'), pairKey('y', 'x'));
  t.not(pairKey('x', 'y'), pairKey('x', 'z'));
});
