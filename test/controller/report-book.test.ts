import t from 'tap';
import { ReportBook } from '../../src/controller/report-book.ts';

t.test('a node\'s report per peer: packed, read back by key and in order; replaced by the next; forgotten with the node', async (t) => {
  const b = new ReportBook();
  const unsubscribe = b.follow((listener) => {
    t.context.emit = listener;
    return () => {};
  });
  b.record('office', 'n1', 7, [
    { publicKey: 'k2', latestHandshake: 1_800_000_000, rxBytes: 2 ** 40, txBytes: 5 },
    { publicKey: 'k3', latestHandshake: 0 },
    { publicKey: 'k4', latestHandshake: -3, rxBytes: Number.NaN, txBytes: 'x' as unknown as number },
  ], 1000);
  const r = b.get('office', 'n1')!;
  t.equal(r.version, 7);
  t.equal(r.at, 1000);
  t.equal(r.peers.size, 3);
  t.same(r.peers.get('k2'), { latestHandshake: 1_800_000_000, rxBytes: 2 ** 40, txBytes: 5 }, 'numbers past 2^32 kept exactly');
  t.same(r.peers.get('k3'), { latestHandshake: 0, rxBytes: 0, txBytes: 0 }, 'absent counters are 0');
  t.same(r.peers.get('k4'), { latestHandshake: 0, rxBytes: 0, txBytes: 0 }, 'anything but a finite non-negative number is 0');
  t.equal(r.peers.get('k9'), undefined);
  t.same([...r.peers.values()].map((p) => p.txBytes), [5, 0, 0], 'in the order reported');
  b.record('office', 'n1', 8, [{ publicKey: 'k3', latestHandshake: 5 }], 2000);
  t.equal(b.get('office', 'n1')!.peers.get('k2'), undefined, 'the next report replaces it');
  t.equal(b.get('office', 'n1')!.peers.get('k3')!.latestHandshake, 5);
  b.record('office', 'n2', 8, [], 2000);
  (t.context.emit as (c: unknown) => void)({ kind: 'node-removed', network: 'office', nodeId: 'n1' });
  t.equal(b.get('office', 'n1'), undefined);
  t.ok(b.get('office', 'n2'));
  (t.context.emit as (c: unknown) => void)({ kind: 'network-deleted', network: 'office' });
  t.equal(b.get('office', 'n2'), undefined);
  unsubscribe();
});
