// The pair matrix: a pair without a recent handshake between two healthy nodes shows as broken.
import t from 'tap';
import assert from 'node:assert/strict';
import { dash, fits, mesh } from '../helpers/dash-fixture.ts';
import type { NodeSoftState } from '../../src/tui/source.ts';

t.test('a broken pair between healthy nodes shows at a glance', async (t) => {
  const s = mesh();
  const now = Date.now();
  const soft = (name: string, status: NodeSoftState['status'], peers: [string, number | null][]): void => {
    const n = s.nodes.find((x) => x.name === name)!;
    s.soft.set(n.id, { id: n.id, name, address: n.address, endpoint: null, listenPort: 51821, status, lastContact: new Date(now).toISOString(), version: 1, rxBytes: 0, txBytes: 0,
      handshakes: peers.map(([p, ago]) => ({ peer: p, publicKey: `pk-${p}`, at: ago === null ? null : new Date(now - ago).toISOString() })) });
  };
  s.addNode('office', 'n4');
  soft('n1', 'healthy', [['n2', 10_000], ['n3', 20_000], ['n4', 30_000]]);
  soft('n2', 'healthy', [['n1', 10_000], ['n3', 15_000], ['n4', 400_000]]); // n2-n4: last handshake long ago
  soft('n3', 'stale', [['n1', 20_000], ['n2', 15_000], ['n4', 50_000]]);
  soft('n4', 'healthy', [['n1', 30_000], ['n2', null]]);
  soft('p1', 'pending', []);
  const d = dash(s, { initial: { kind: 'network', network: 'office', tab: 'matrix' } });
  t.teardown(d.unmount);
  const f = await d.waitFor((f) => /broken pairs/.test(f), 3000, 'the matrix');
  assert.match(f, /broken pairs \(1\): n2 ✗ n4/);
  assert.match(f, /2 n2\s+healthy\s+● ╲ ● ✗ ·/);
  assert.match(f, /5 p1\s+pending\s+· · · · ╲/);
  assert.equal(fits(f), null);
});

t.test('every pair talking: says so', async (t) => {
  const s = mesh();
  s.nodes = s.nodes.filter((n) => n.name === 'n1' || n.name === 'n2');
  const at = new Date().toISOString();
  s.soft.set('id-n1', { id: 'id-n1', name: 'n1', address: '', endpoint: null, listenPort: 1, status: 'healthy', lastContact: at, version: 1, rxBytes: 0, txBytes: 0, handshakes: [{ peer: 'n2', publicKey: 'pk-n2', at }] });
  const d = dash(s, { initial: { kind: 'network', network: 'office', tab: 'matrix' } });
  t.teardown(d.unmount);
  await d.waitFor((f) => /every pair of up nodes has a recent handshake/.test(f), 3000);
});
