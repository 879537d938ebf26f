import t from 'tap';
import { HealthBook, sharedHealthOf, type HealthReport, type SharedHealth } from '../../src/controller/health-book.ts';

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

t.test('controllers sharing reports (two freshest per node) agree with one book that heard everything', async (t) => {
  // a fake shared store: what shareHealth queues is there at once
  const rows = new Map<string, HealthReport>();
  const shared: SharedHealth = {
    shareHealth: (rs) => { for (const r of rs) { const k = `${r.subject} ${r.reporter}`; if ((rows.get(k)?.at ?? 0) < r.at) rows.set(k, r); } },
    sharedHealth: async (network) => [...rows.values()].filter((r) => network === undefined || r.network === network),
  };
  let seed = 7;
  const rand = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
  const now = 1_800_000_000_000;
  for (let round = 0; round < 20; round++) {
    rows.clear();
    const books = [new HealthBook(shared), new HealthBook(shared), new HealthBook(shared)];
    const all = new HealthBook();
    for (let i = 0; i < 300; i++) {
      // a reporter checks in with one controller at a time, and moves now and then
      const reporter = `r${rand(12)}`;
      const h = [{ nodeId: `s${rand(5)}`, latestHandshake: now / 1000 - rand(600) }];
      books[rand(3)]!.report('office', reporter, h, now);
      all.report('office', reporter, h, now);
    }
    for (const b of books) await b.refresh('office');
    for (let s = 0; s < 5; s++) {
      const want = all.lastHandshake('office', `s${s}`);
      t.same(books.map((b) => b.lastHandshake('office', `s${s}`)), [want, want, want], `round ${round}, node s${s}`);
    }
    t.ok(rows.size <= 5 * 12, 'what is shared is bounded by nodes × reporters');
  }
  await new HealthBook().refresh(); // no shared store: nothing to do
  t.equal(sharedHealthOf({}), undefined);
  t.equal(sharedHealthOf(shared), shared);
});

t.test('per node it keeps the few freshest reports, not every reporter\'s; a removed reporter\'s place goes to the next freshest', async (t) => {
  const b = new HealthBook();
  const now = 1_800_000_000_000;
  const s = now / 1000;
  // a full mesh of 200: every member reports every other one
  for (let r = 0; r < 200; r++) b.report('office', `n${r}`, Array.from({ length: 200 }, (_, i) => ({ nodeId: `n${i}`, latestHandshake: s - 1000 + r })), now);
  t.equal(b.lastHandshake('office', 'n0'), now - (1000 - 198) * 1000, 'the second-freshest of 199 reporters');
  const seen = (b as unknown as { seen: Map<string, Map<string, unknown[]>> }).seen.get('office')!;
  t.equal(seen.size, 200);
  t.ok([...seen.values()].every((top) => top.length <= 4), 'at most 4 reports kept per node (was one per reporter: 40,000)');
  // the two freshest reporters go: the next two count, as they did when every report was kept
  b.forgetNode('office', 'n199');
  t.equal(b.lastHandshake('office', 'n0'), now - (1000 - 197) * 1000);
  b.forgetNode('office', 'n198');
  t.equal(b.lastHandshake('office', 'n0'), now - (1000 - 196) * 1000);
  // a report older than the reporter's own earlier one never counts, even once it was pushed out
  const c = new HealthBook();
  c.report('lab', 'old', [{ nodeId: 'x', latestHandshake: s - 500 }], now);
  for (const r of ['p', 'q', 'u', 'v']) c.report('lab', r, [{ nodeId: 'x', latestHandshake: s - 100 }], now);
  c.report('lab', 'old', [{ nodeId: 'x', latestHandshake: s - 600 }], now);
  t.equal(c.lastHandshake('lab', 'x'), now - 100_000);
  c.report('lab', 'p', [{ nodeId: 'x', latestHandshake: s - 50 }], now);
  c.report('lab', 'q', [{ nodeId: 'x', latestHandshake: s - 40 }], now);
  t.equal(c.lastHandshake('lab', 'x'), now - 50_000, 'fresher reports from the same reporters move the second-freshest');
  t.equal(c.lastHandshake('lab', 'nobody'), null);
});
