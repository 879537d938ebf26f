// Names, records, zones and answers: the pure DNS logic.
import t from 'tap';
import { parseRecord, assertDomain, defaultDomain } from '../../src/core/dns.ts';
import { zoneOf, zoneAddresses } from '../../src/core/dns-zone.ts';
import { answer, ZoneSet } from '../../src/core/dns-answer.ts';
import { withHostsBlock, hostsBlockOf, hostsFileOf, corefileStanza } from '../../src/core/dns-hosts.ts';
import { applyDelta, deltaFor } from '../../src/core/change.ts';
import { buildView, type ViewNode } from '../../src/core/view.ts';
import { newNetwork, patchNetwork } from '../../src/core/network.ts';
import { MeshError } from '../../src/core/errors.ts';

const node = (i: number, approved = true): ViewNode => ({ id: `id${i}`, name: `n${i}`, address: `10.10.0.${i}`, publicKey: `pk${i}`, endpoint: null, listenPort: 51821, approved });
const net = { ...newNetwork({ name: 'office', cidr: '10.10.0.0/24' }), version: 9 };
const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return e instanceof MeshError ? e.code : String(e);
  }
  return 'ok';
};

t.test('domains: default <network>.internal, set on create and update, validated', async (t) => {
  t.equal(defaultDomain('office'), 'office.internal');
  t.equal(net.domain, 'office.internal');
  t.equal(net.dns, true);
  t.equal(newNetwork({ name: 'lab', cidr: '10.20.0.0/24', domain: 'Lab.Example.' }).domain, 'lab.example');
  for (const bad of ['office', 'a..b', '-a.b', 'a_b.c', `${'a'.repeat(64)}.b`]) t.equal(codeOf(() => assertDomain(bad)), 'INVALID_ARGUMENT', bad);
  const moved = patchNetwork(net, { domain: 'corp.internal' });
  t.equal(moved.domain, 'corp.internal');
  t.equal(moved.version, net.version + 1, 'a new domain is a change nodes see');
  t.equal(patchNetwork(net, { dns: false }).version, net.version + 1);
  t.equal(patchNetwork(net, { domain: 'office.internal' }), net, 'the same domain changes nothing');
});

t.test('records: an IPv4 address is A, a name of the domain is a CNAME', async (t) => {
  t.same(parseRecord('printer', '10.10.0.200', 'office.internal'), { name: 'printer', type: 'A', address: '10.10.0.200' });
  t.same(parseRecord('db', 'n2', 'office.internal'), { name: 'db', type: 'CNAME', address: 'n2' });
  t.same(parseRecord('db', 'N2.office.internal.', 'office.internal'), { name: 'db', type: 'CNAME', address: 'n2' });
  t.equal(codeOf(() => parseRecord('db', 'example.com', 'office.internal')), 'INVALID_ARGUMENT', 'no CNAME out of the domain');
  t.equal(codeOf(() => parseRecord('db', 'db', 'office.internal')), 'INVALID_ARGUMENT', 'no CNAME to itself');
  t.equal(codeOf(() => parseRecord('db', '10.10.0.999')), 'INVALID_ARGUMENT');
  t.equal(codeOf(() => parseRecord('Bad_Name', '10.10.0.1')), 'INVALID_ARGUMENT');
});

const all = [node(1), node(2), node(3), node(4, false)];
const view = buildView(all[0]!, net, all, [], [
  { name: 'printer', type: 'A', address: '192.168.1.50' },
  { name: 'db', type: 'CNAME', address: 'n2' },
  { name: 'loop', type: 'CNAME', address: 'loop2' },
  { name: 'loop2', type: 'CNAME', address: 'loop' },
  { name: 'dangling', type: 'CNAME', address: 'gone' },
  { name: 'n3', type: 'A', address: '10.99.99.99' },
]);
const zones = new ZoneSet();
zones.set(zoneOf(view));

t.test('a zone holds itself, approved peers and the records; a node wins over a record of its name', async (t) => {
  const z = zoneOf(view);
  t.equal(z.domain, 'office.internal');
  t.equal(z.serial, 9);
  t.same(z.hosts.get('n1'), { a: '10.10.0.1' });
  t.same(z.hosts.get('n3'), { a: '10.10.0.3' });
  t.notOk(z.hosts.has('n4'), 'a pending node has no name');
  t.same(zoneAddresses(z), [
    { name: 'db.office.internal', address: '10.10.0.2' },
    { name: 'n1.office.internal', address: '10.10.0.1' },
    { name: 'n2.office.internal', address: '10.10.0.2' },
    { name: 'n3.office.internal', address: '10.10.0.3' },
    { name: 'printer.office.internal', address: '192.168.1.50' },
  ]);
});

t.test('answers: authoritative A, NXDOMAIN inside the domain, REFUSED outside', async (t) => {
  const a = answer(zones, 'n2.office.internal', 'A');
  t.equal(a.rcode, 'NOERROR');
  t.equal(a.aa, true);
  t.same(a.answers.map((r) => [r.name, r.type, r.data]), [['n2.office.internal', 'A', '10.10.0.2']]);
  t.same(answer(zones, 'N2.Office.Internal.', 'A').answers.map((r) => r.data), ['10.10.0.2'], 'case and the trailing dot do not matter');
  const nx = answer(zones, 'nope.office.internal', 'A');
  t.equal(nx.rcode, 'NXDOMAIN');
  t.equal(nx.aa, true);
  t.equal(nx.authorities[0]?.type, 'SOA', 'negative answers carry the SOA (negative caching)');
  t.equal(answer(zones, 'a.n2.office.internal', 'A').rcode, 'NXDOMAIN');
  t.equal(answer(zones, 'n4.office.internal', 'A').rcode, 'NXDOMAIN', 'pending nodes');
  for (const q of ['example.com', 'internal', 'com', '', 'office.internal.evil.com']) {
    const r = answer(zones, q, 'A');
    t.equal(r.rcode, 'REFUSED', q);
    t.equal(r.answers.length, 0);
  }
  t.equal(answer(zones, 'n2.office.internal', 'A', 'CH').rcode, 'REFUSED', 'only class IN');
});

t.test('answers: NODATA for other types, SOA at the apex, CNAMEs followed inside the zone', async (t) => {
  const aaaa = answer(zones, 'n2.office.internal', 'AAAA');
  t.equal(aaaa.rcode, 'NOERROR');
  t.equal(aaaa.answers.length, 0);
  t.equal(aaaa.authorities[0]?.type, 'SOA');
  t.equal(answer(zones, 'office.internal', 'SOA').answers[0]?.type, 'SOA');
  t.equal(answer(zones, 'office.internal', 'A').answers.length, 0);
  const db = answer(zones, 'db.office.internal', 'A');
  t.same(db.answers.map((r) => [r.name, r.type, r.data]), [['db.office.internal', 'CNAME', 'n2.office.internal'], ['n2.office.internal', 'A', '10.10.0.2']]);
  t.same(answer(zones, 'db.office.internal', 'CNAME').answers.map((r) => r.type), ['CNAME']);
  const loop = answer(zones, 'loop.office.internal', 'A');
  t.equal(loop.rcode, 'NOERROR', 'a CNAME loop ends');
  t.ok(loop.answers.length <= 8);
  t.equal(answer(zones, 'dangling.office.internal', 'A').rcode, 'NXDOMAIN');
});

t.test('records travel as deltas; applying them gives the rebuilt view', async (t) => {
  const base = buildView(all[0]!, net, all, [], []);
  const d = deltaFor({ id: 'id1', approved: true }, { kind: 'dns', network: 'office', version: 10, upserted: [{ name: 'printer', type: 'A', address: '10.10.0.200' }], removed: [] });
  t.ok(typeof d === 'object');
  const v1 = applyDelta(base, 10, d as Exclude<typeof d, string>);
  t.same(v1, buildView(all[0]!, { ...net, version: 10 }, all, [], [{ name: 'printer', type: 'A', address: '10.10.0.200' }]));
  const d2 = deltaFor({ id: 'id1', approved: true }, { kind: 'dns', network: 'office', version: 11, upserted: [], removed: ['printer'] });
  t.same(applyDelta(v1, 11, d2 as Exclude<typeof d2, string>).records, []);
  const old = { ...base, records: undefined } as unknown as typeof base;
  t.same(zoneOf(old).hosts.size, 3, 'a view cached before records existed still has the node names');
});

t.test('hosts blocks: only our lines change; removing the block leaves the rest byte for byte', async (t) => {
  const original = '127.0.0.1\tlocalhost\n::1 localhost ip6-localhost\n# keep me\n';
  const a = withHostsBlock(original, 'office', ['10.10.0.1\tn1.office.internal']);
  t.equal(a, original + '# BEGIN meshctl office\n10.10.0.1\tn1.office.internal\n# END meshctl office\n');
  const b = withHostsBlock(a, 'lab', ['10.20.0.1\tx.lab.internal']);
  const c = withHostsBlock(b, 'office', ['10.10.0.2\tn2.office.internal']);
  t.same(hostsBlockOf(c, 'office'), ['10.10.0.2\tn2.office.internal']);
  t.same(hostsBlockOf(c, 'lab'), ['10.20.0.1\tx.lab.internal']);
  t.equal(withHostsBlock(withHostsBlock(c, 'office', null), 'lab', null), original);
  t.equal(withHostsBlock(original, 'office', null), original, 'removing an absent block changes nothing');
  t.equal(withHostsBlock('a', 'x', null), 'a\n');
  t.equal(withHostsBlock('', 'x', null), '');
});

t.test('the CoreDNS export: every node and record (CNAMEs flattened), and a Corefile stanza', async (t) => {
  const text = hostsFileOf(zoneOf(view));
  t.match(text, /^# meshctl: names of office.internal/);
  t.match(text, /\n10\.10\.0\.2\tdb\.office\.internal\n/);
  t.match(text, /\n192\.168\.1\.50\tprinter\.office\.internal\n/);
  t.notMatch(text, /loop/);
  t.match(corefileStanza('office.internal', '/d/dns/office.internal.hosts'), /^office\.internal:53 \{\n {4}hosts \/d\/dns\/office\.internal\.hosts \{/);
});
