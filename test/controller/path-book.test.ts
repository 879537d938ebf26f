// PathBook with fakes around it: what nodes report turns into candidates, relay pairs, and
// path updates pushed to both ends (partial: only the peers that changed).
import t from 'tap';
import pino from 'pino';
import { PathBook, type PathUpdate } from '../../src/controller/nat/path-book.ts';
import { RelayPool } from '../../src/controller/nat/relay-pool.ts';
import type { NodeRow, Store } from '../../src/controller/store/store.ts';
import type { ViewBuilder } from '../../src/controller/node-api/view-builder.ts';

const row = (id: string, pk: string): NodeRow => ({
  id, network: 'office', name: id, address: `10.0.0.${id.length}`, publicKey: pk, endpoint: null, endpointStated: false,
  listenPort: 51821, approved: true, credentialHash: 'x', createdAt: '', lastCheckin: null,
});
/** Lets a scheduled paths push run (it waits for the push before it and a turn of the event loop). */
const tick = async () => {
  for (let i = 0; i < 4; i++) await new Promise((r) => setImmediate(r));
};

t.test('a node behind a per-destination NAT and a NATed peer: relayed at once, no candidates, both ends told', async (t) => {
  const pub = row('pub', 'P'.repeat(43) + '=');
  const a = row('a', 'A'.repeat(43) + '=');
  const c = row('c', 'C'.repeat(43) + '=');
  const members = [pub, a, c];
  const views = { membersOf: async () => ({ version: 1, rows: members }) } as unknown as ViewBuilder;
  const store = { subscribe: () => () => {} } as unknown as Store;
  const opened: string[] = [];
  const relay = new RelayPool(pino({ level: 'silent' }), null);
  const book = new PathBook(views, store, relay, pino({ level: 'silent' }));
  await relay.start({ name: 'r1', host: '198.51.100.1', open: async (spec) => (opened.push(spec.id), [40001, 40002]), close: () => {} });
  const sent: { node: string; u: PathUpdate }[] = [];
  book.setSink({ send: (_n, node, u) => sent.push({ node, u }), connected: () => true });

  book.contact(pub, 'ipv4:203.0.113.9:5000', ['203.0.113.9']);
  book.contact(a, 'ipv4:198.51.100.20:6000', ['192.168.1.10']);
  book.contact(c, 'ipv4:198.51.100.30:7000', ['192.168.3.10']);
  await tick();
  const before = await book.pathsFor(a);
  t.same(before.paths.find((p) => p.publicKey === c.publicKey)?.candidates, [{ endpoint: '198.51.100.30:51821', kind: 'controller' }]);

  // pub has a direct handshake with c, and its WireGuard holds c at another port than 51821
  sent.length = 0;
  await book.report(pub, [{ publicKey: c.publicKey, latestHandshake: Math.floor(Date.now() / 1000), endpoint: '198.51.100.30:61000', path: 'direct' }]);
  await tick();
  t.same(opened, ['a|c'], 'a relay pair for a and c, none with the public node');
  const forA = (await book.pathsFor(a)).paths.find((p) => p.publicKey === c.publicKey)!;
  const forC = (await book.pathsFor(c)).paths.find((p) => p.publicKey === a.publicKey)!;
  t.equal(forA.relay, '198.51.100.1:40001');
  t.equal(forC.relay, '198.51.100.1:40002');
  t.same(forA.candidates, [], 'no direct candidates for a pair that cannot go direct');
  const forPub = (await book.pathsFor(pub)).paths.find((p) => p.publicKey === c.publicKey)!;
  t.same(forPub.candidates[0], { endpoint: '198.51.100.30:61000', kind: 'observed' }, 'others may use what pub observed');
  t.ok(sent.some((s) => s.node === 'a') && sent.some((s) => s.node === 'c'), 'both ends are pushed');
  for (const s of sent) t.ok(s.u.base !== undefined && s.u.paths.length <= 2, `partial update for ${s.node}: ${s.u.paths.length} entries`);
  // The network status's per-pair path: a relay assigned before either end reported; then the reports.
  t.equal(book.pathBetween(a, c.publicKey, c.id), 'relayed');
  t.equal(book.pathBetween(pub, a.publicKey, a.id), 'unknown', 'nothing reported, no relay');
  t.equal(book.pathBetween(pub, c.publicKey, c.id), 'direct', 'pub reported direct');
  await book.report(a, [{ publicKey: c.publicKey, latestHandshake: 0, endpoint: '', path: 'probing', exhausted: true }]);
  t.equal(book.pathBetween(a, c.publicKey, c.id), 'unknown', 'still probing');
  book.close();
});

t.test('a full update leaves out the peers a node reaches at their view endpoint; a partial one names every changed peer', async (t) => {
  // One node on the open internet, two behind the same NAT (they reach each other on their LAN).
  const x = { ...row('x', 'X'.repeat(43) + '='), endpoint: '203.0.113.1:51821' };
  const n1 = { ...row('n1', 'M'.repeat(43) + '='), endpoint: '198.51.100.3:51821' };
  const n2 = { ...row('n2', 'N'.repeat(43) + '='), endpoint: '198.51.100.3:51822', listenPort: 51822 };
  const members = [x, n1, n2];
  const views = { membersOf: async () => ({ version: 1, rows: members }) } as unknown as ViewBuilder;
  const store = { subscribe: () => () => {} } as unknown as Store;
  const book = new PathBook(views, store, null, pino({ level: 'silent' }));
  const sent: { node: string; u: PathUpdate }[] = [];
  book.setSink({ send: (_n, node, u) => sent.push({ node, u }), connected: () => true });
  book.contact(x, 'ipv4:203.0.113.1:5000', ['203.0.113.1']);
  book.contact(n1, 'ipv4:198.51.100.3:7000', ['192.168.3.10']);
  book.contact(n2, 'ipv4:198.51.100.3:7001', ['192.168.3.11']);
  await tick();
  t.same((await book.pathsFor(x)).paths, [], 'x reaches both at their view endpoints: nothing to send');
  const forN1 = (await book.pathsFor(n1)).paths;
  t.same(forN1.map((p) => p.publicKey), [n2.publicKey], 'n1 gets n2 (a LAN candidate), not x');
  t.same(forN1[0]!.candidates[0], { endpoint: '192.168.3.11:51822', kind: 'local' });
  // x's LAN changes: nobody was ever sent an entry for x and its entry is still the default for
  // everyone, so nothing is pushed (each node derives x's path from its view).
  sent.length = 0;
  const tag = book.tagOf('office');
  book.contact(x, 'ipv4:203.0.113.1:5000', ['203.0.113.1', '10.9.9.9']);
  await tick();
  t.same(sent, [], 'nothing pushed for a change nobody needs an entry for');
  t.equal(book.tagOf('office'), tag, 'and the paths version did not move');
  // n2 leaves its LAN: n1 holds an entry for n2 (a LAN candidate), so everyone is sent n2's
  // entry, which is now the default (it replaces the one n1 holds).
  book.contact(n2, 'ipv4:198.51.100.3:7001', []);
  await tick();
  const toN1 = sent.find((s) => s.node === 'n1')!;
  t.ok(toN1.u.base, 'a partial update');
  t.same(toN1.u.paths, [{ publicKey: n2.publicKey, candidates: [{ endpoint: '198.51.100.3:51822', kind: 'controller' }], relay: '' }], 'names n2 with its default entry');
  t.equal(sent.find((s) => s.node === 'x')!.u, toN1.u, 'x and n1 get the same entries: one shared update (encoded once)');
  t.same(sent.find((s) => s.node === 'n2')!.u.paths, [], 'n2 is sent no entry of its own, only the new version');
  book.close();
});

t.test('paths tags of two controller runs never match, so an agent never keeps paths of a past run', async (t) => {
  const views = { membersOf: async () => ({ version: 1, rows: [] }) } as unknown as ViewBuilder;
  const store = { subscribe: () => () => {} } as unknown as Store;
  const one = new PathBook(views, store, null, pino({ level: 'silent' }));
  const two = new PathBook(views, store, null, pino({ level: 'silent' }));
  t.match(one.tagOf('office'), /^[0-9a-f]{8}\.0$/);
  t.not(one.tagOf('office'), two.tagOf('office'));
  one.close();
  two.close();
});

t.test('after a start, relayed pairs are offered no direct candidates until the check-ins had time to come back', async (t) => {
  let now = 1_800_000_000_000;
  const a = row('a', 'A'.repeat(43) + '=');
  const b = row('bb', 'B'.repeat(43) + '=');
  const members = [a, b];
  const views = { membersOf: async () => ({ version: 1, rows: members }) } as unknown as ViewBuilder;
  const store = { subscribe: () => () => {} } as unknown as Store;
  const relay = new RelayPool(pino({ level: 'silent' }), null);
  const book = new PathBook(views, store, relay, pino({ level: 'silent' }), () => now);
  await relay.start({ name: 'r1', host: '198.51.100.1', open: async () => [40001, 40002], close: () => {} });
  book.contact(a, 'ipv4:198.51.100.20:6000', ['192.168.1.10']);
  book.contact(b, 'ipv4:198.51.100.30:7000', ['192.168.3.10']);
  // Both ends waited out every candidate: the pair is relayed.
  await book.report(a, [{ publicKey: b.publicKey, latestHandshake: 0, path: 'probing', exhausted: true }]);
  await book.report(b, [{ publicKey: a.publicKey, latestHandshake: 0, path: 'probing', exhausted: true }]);
  await tick();
  const early = (await book.pathsFor(a)).paths.find((p) => p.publicKey === b.publicKey)!;
  t.equal(early.relay, '198.51.100.1:40001');
  t.same(early.candidates, [], 'no retries off the relay while the NAT facts come back');
  now += 20_000;
  const later = (await book.pathsFor(a)).paths.find((p) => p.publicKey === b.publicKey)!;
  t.equal(later.relay, '198.51.100.1:40001');
  t.ok(later.candidates.length > 0, 'then the pair may retry direct (its NATs may allow it)');
  book.close();
});

t.test('a full update is exactly the entries that say more than the default, over many random networks', async (t) => {
  const { isDefaultPath } = await import('../../src/core/change.ts');
  let seed = 7;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  let plainSeen = 0;
  for (let round = 0; round < 60; round++) {
    const sites = ['198.51.100.1', '198.51.100.2', '203.0.113.9'];
    const members: NodeRow[] = Array.from({ length: 8 }, (_, i) => {
      const site = sites[rnd(3)]!;
      const port = 51820 + rnd(3);
      return { ...row(`m${i}`, String.fromCharCode(65 + i).repeat(43) + '='), endpoint: rnd(6) === 0 ? `${site}:${port + 1}` : `${site}:${port}`, endpointStated: rnd(5) === 0, listenPort: port };
    });
    const views = { membersOf: async () => ({ version: 1, rows: members }) } as unknown as ViewBuilder;
    const store = { subscribe: () => () => {} } as unknown as Store;
    const relay = new RelayPool(pino({ level: 'silent' }), null);
    const book = new PathBook(views, store, rnd(2) ? relay : null, pino({ level: 'silent' }));
    if (rnd(2)) await relay.start({ name: 'r1', host: '192.0.2.1', open: async () => [40001, 40002], close: () => {} });
    for (const m of members) {
      if (rnd(4) === 0) continue; // no contact since the controller started
      const site = rnd(5) === 0 ? sites[rnd(3)]! : m.endpoint!.slice(0, m.endpoint!.lastIndexOf(':'));
      const lan = rnd(2) ? [site] : rnd(2) ? [`192.168.${rnd(3)}.${rnd(200) + 1}`] : [];
      book.contact(m, `ipv4:${site}:${1000 + rnd(1000)}`, lan);
    }
    for (let k = 0; k < 3; k++) {
      const [a, b] = [members[rnd(8)]!, members[rnd(8)]!];
      if (a !== b) await book.report(a, [{ publicKey: b.publicKey, latestHandshake: Math.floor(Date.now() / 1000), endpoint: `${b.endpoint!.slice(0, b.endpoint!.lastIndexOf(':'))}:${40000 + rnd(100)}`, path: 'direct' }]);
    }
    await tick();
    for (const n of members) {
      // The long way: every entry built, then the defaults left out.
      const all = (book as unknown as { compute(n: NodeRow, m: readonly NodeRow[], full: boolean): PathUpdate['paths'] }).compute(n, members, false);
      const want = all.filter((e) => !isDefaultPath(e, members.find((m) => m.publicKey === e.publicKey)!.endpoint ?? ''));
      plainSeen += all.length - want.length;
      const full = (await book.pathsFor(n)).paths;
      if (JSON.stringify(full) !== JSON.stringify(want)) t.fail(`round ${round}, receiver ${n.id}: ${JSON.stringify(full)} != ${JSON.stringify(want)}`);
    }
    book.close();
  }
  t.ok(plainSeen > 100, `full updates matched the long way in every round (${plainSeen} default entries left out)`);
});

t.test('a restarted controller hearing from nodes where their endpoints said they were pushes nothing', async (t) => {
  const members = ['a', 'bb', 'ccc'].map((id, i) => ({ ...row(id, String.fromCharCode(65 + i).repeat(43) + '='), endpoint: `198.51.100.${i + 1}:51821` }));
  const views = { membersOf: async () => ({ version: 1, rows: members }) } as unknown as ViewBuilder;
  const store = { subscribe: () => () => {} } as unknown as Store;
  const book = new PathBook(views, store, null, pino({ level: 'silent' }));
  const sent: string[] = [];
  book.setSink({ send: (_n, node) => sent.push(node), connected: () => true });
  const tag = book.tagOf('office');
  for (const [i, m] of members.entries()) book.contact(m, `ipv4:198.51.100.${i + 1}:4000`, undefined);
  await tick();
  t.same(sent, [], 'nothing pushed');
  t.equal(book.tagOf('office'), tag, 'the paths version did not move');
  book.contact(members[0]!, 'ipv4:203.0.113.50:4000', undefined);
  await tick();
  t.equal(sent.length, 3, 'a node seen somewhere else is a change for everyone');
  book.close();
});

t.test('changes made while a push is under way are gathered into one next push', async (t) => {
  const members = Array.from({ length: 40 }, (_, i) => ({ ...row(`n${i}`, `K${String(i).padStart(2, '0')}`.padEnd(43, 'x') + '='), endpoint: `198.51.100.${i + 1}:51821` }));
  let release: () => void = () => {};
  let slow = true;
  const views = {
    membersOf: async () => {
      if (slow) await new Promise<void>((r) => (release = r));
      return { version: 1, rows: members };
    },
  } as unknown as ViewBuilder;
  const store = { subscribe: () => () => {} } as unknown as Store;
  const book = new PathBook(views, store, null, pino({ level: 'silent' }));
  const tags = new Set<string>();
  book.setSink({ send: (_n, _node, u) => tags.add(u.tag), connected: () => true });
  book.contact(members[0]!, 'ipv4:203.0.113.1:4000', undefined); // a change: the first push starts and waits
  await tick();
  for (const m of members.slice(1)) {
    book.contact(m, `ipv4:203.0.113.${m.name.slice(1)}:4000`, undefined);
    await tick();
  }
  slow = false;
  release();
  await tick();
  await tick();
  t.equal(tags.size, 2, `39 changes made during the first push went out in one more push (tags: ${[...tags].join(', ')})`);
  book.close();
});

t.test('a full mesh\'s first round of reports decides each reported pair once, not every pair of each newly seen node (O(N²), was O(N³))', async (t) => {
  const n = 40;
  const members = Array.from({ length: n }, (_, i) => ({ ...row(`m${i}`, `${String(i).padStart(2, '0')}${'K'.repeat(41)}=`), endpoint: `203.0.113.${i + 1}:51821` }));
  const views = { membersOf: async () => ({ version: 1, rows: members }) } as unknown as ViewBuilder;
  const store = { subscribe: () => () => {} } as unknown as Store;
  const book = new PathBook(views, store, null, pino({ level: 'silent' }));
  book.setSink({ send: () => {}, connected: () => true });
  for (const [i, m] of members.entries()) book.contact(m, `ipv4:203.0.113.${i + 1}:5000`, [`203.0.113.${i + 1}`]);
  const nowS = Math.floor(Date.now() / 1000);
  for (const m of members) {
    await book.report(m, members.filter((p) => p !== m).map((p) => ({ publicKey: p.publicKey, latestHandshake: nowS, endpoint: p.endpoint!, path: 'direct' })));
  }
  const decisions = (book as unknown as { decisions: number }).decisions;
  t.equal(decisions, n * (n - 1), 'one decision per reported pair (no NAT: what is observed changes no decision)');
  await tick();
  t.same((await book.pathsFor(members[0]!)).paths.filter((p) => p.relay), [], 'no pair relayed');
});
