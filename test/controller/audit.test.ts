// The audit log readable (issue 9): the store's filters on both engines, GET /api/v1/audit, and
// `meshctl audit` as a process against a real controller.
import t from 'tap';
import { randomBytes, randomUUID } from 'node:crypto';
import { storeBackends } from '../helpers/store-backends.ts';
import { startTestController } from '../helpers/controller.ts';
import { cli } from '../helpers/cli.ts';
import { newNetwork } from '../../src/core/network.ts';
import { hashSecret, newSecret } from '../../src/core/secret.ts';
import { parseSince } from '../../src/core/duration.ts';
import type { AuditEntry } from '../../src/core/types.ts';

for (const backend of storeBackends()) {
  t.test(`audit filters on ${backend.name}`, { skip: backend.skip }, async (t) => {
    const store = await (await backend.home(t)).open();
    await store.createNetwork(newNetwork({ name: 'office', cidr: '10.10.0.0/24' }), 'admin:a');
    await store.createNetwork(newNetwork({ name: 'office2', cidr: '10.11.0.0/24' }), 'admin:b');
    const secret = newSecret();
    await store.createKey({ network: 'office', name: 'k1', secretHash: hashSecret(secret), usesRemaining: null, expiresAt: null }, 'admin:a');
    await store.createKey({ network: 'office2', name: 'k2', secretHash: hashSecret(newSecret()), usesRemaining: null, expiresAt: null }, 'admin:b');
    await new Promise((r) => setTimeout(r, 20));
    const mid = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 20));
    await store.joinNode({ network: 'office', name: 'k1', secret }, { id: randomUUID(), network: 'office', name: 'n1', publicKey: randomBytes(32).toString('base64'), endpoint: null, endpointStated: false, listenPort: 51821, credentialHash: hashSecret('c') }, new Date());
    await store.addDns('office2', 'printer', '10.11.0.200', 'admin:b');
    await store.createAdminToken({ name: 'carol', hash: hashSecret(newSecret()), expiresAt: null }, 'admin:a');

    const all = await store.listAudit(100);
    t.same(all.map((e) => [e.action, e.target.replace(/ .*/, '')]), [
      ['admin-token.create', 'carol'],
      ['dns.add', 'office2/printer'], ['node.join', 'office/n1'], ['key.create', 'office2/k2'], ['key.create', 'office/k1'], ['network.create', 'office2'], ['network.create', 'office'],
    ], 'newest first');
    t.equal(all.at(-1)!.target, 'office', 'the oldest is the first network');
    t.ok(all.every((e, i) => i === 0 || all[i - 1]!.at >= e.at), 'newest first');
    const office = await store.listAudit(100, { network: 'office' });
    t.same(office.map((e) => e.target.replace(/ .*/, '')), ['office/n1', 'office/k1', 'office'], 'the network\'s own entries and those on things in it');
    t.notOk(office.some((e) => e.target.startsWith('office2')), '"office" does not match "office2"');
    const since = await store.listAudit(100, { since: mid });
    t.ok(since.every((e) => e.at >= mid), 'only entries since the time');
    t.ok(since.some((e) => e.action === 'node.join') && !since.some((e) => e.action === 'key.create'), 'the join, not the keys made before');
    t.same((await store.listAudit(100, { since: mid, network: 'office2' })).map((e) => e.target), ['office2/printer'], 'both filters');
    t.equal((await store.listAudit(2)).length, 2, 'limit');
    t.same(await store.listAudit(10, { network: 'nosuch' }), []);
  });
}

t.test('--since parsing: durations back from now, or a date', async (t) => {
  const now = new Date('2026-11-26T12:00:00Z');
  t.equal(parseSince('90s', now).toISOString(), '2026-11-26T11:58:30.000Z');
  t.equal(parseSince('2d', now).toISOString(), '2026-11-24T12:00:00.000Z');
  t.equal(parseSince('2026-11-01', now).toISOString(), '2026-11-01T00:00:00.000Z');
  t.equal(parseSince('99999999w', now).getTime(), 0, 'clamped to the epoch, never an invalid date');
  t.throws(() => parseSince('yesterday', now), { code: 'INVALID_ARGUMENT' });
  t.throws(() => parseSince('2026-13-45', now), { code: 'INVALID_ARGUMENT' });
});

t.test('GET /api/v1/audit and meshctl audit', async (t) => {
  const tc = await startTestController();
  t.teardown(() => tc.stop());
  await tc.admin('POST', '/networks', { name: 'office', cidr: '10.10.0.0/24' });
  await tc.admin('POST', '/networks', { name: 'lab', cidr: '10.20.0.0/24' });
  await tc.admin('POST', '/networks/office/dns', { name: 'printer', address: '10.10.0.200' });
  const all = await tc.admin<AuditEntry[]>('GET', '/audit');
  t.same(all.slice(0, 3).map((e) => [e.action, e.target]), [['dns.add', 'office/printer'], ['network.create', 'lab'], ['network.create', 'office']]);
  t.match(all[0], { actor: /^admin:/, at: /^\d{4}-/ });
  t.same((await tc.admin<AuditEntry[]>('GET', '/audit?network=office&limit=1')).map((e) => e.target), ['office/printer']);
  t.same(await tc.admin<AuditEntry[]>('GET', `/audit?since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`), []);
  t.equal((await tc.admin<AuditEntry[]>('GET', '/audit?since=1h')).length, all.length);
  for (const q of ['limit=0', 'limit=x', 'limit=10001', 'since=yesterday', 'network=Bad_Name', 'color=red']) {
    const r = await tc.fetch(`${tc.apiUrl}/api/v1/audit?${q}`, { headers: { authorization: `Bearer ${tc.token}` } });
    t.equal(r.status, 400, q);
  }
  const noAuth = await tc.fetch(`${tc.apiUrl}/api/v1/audit`);
  t.equal(noAuth.status, 401);

  const env = { MESHCTL_SERVER: tc.apiUrl, MESHCTL_TOKEN: tc.token, MESHCTL_DATA_DIR: tc.dataDir };
  const human = await cli(['audit', '--since', '1h'], env);
  t.equal(human.code, 0, human.stderr);
  t.match(human.stdout, /^AT\s+ACTOR\s+ACTION\s+TARGET\n\S+\s+admin:\S+\s+dns\.add\s+office\/printer\n/);
  const json = await cli(['audit', '--network', 'lab', '--json'], env);
  t.equal(json.code, 0, json.stderr);
  t.same((JSON.parse(json.stdout) as AuditEntry[]).map((e) => [e.action, e.target]), [['network.create', 'lab']]);
  const bad = await cli(['audit', '--since', 'yesterday', '--json'], env);
  t.equal(bad.code, 1);
  t.match(JSON.parse(bad.stdout), { error: { code: 'INVALID_ARGUMENT', message: /neither a duration nor a date/ } });
  const future = await cli(['audit', '--since', '2999-01-01'], env);
  t.equal(future.code, 0);
  t.match(future.stdout, /No audit entries\./);
});
