// The controller's CoreDNS-ready files: <data-dir>/dns/<domain>.hosts lists every node and record
// and is rewritten when they change; records follow the name rules in the store.
import t from 'tap';
import { mkdtemp, readFile, rm, readdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as pathJoin } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { SqliteStore } from '../../src/controller/store/sqlite/index.ts';
import { DnsExporter, hostsPath, exportOf } from '../../src/controller/dns-export.ts';
import { newNetwork } from '../../src/core/network.ts';
import { hashSecret, newSecret } from '../../src/core/secret.ts';
import { MeshError } from '../../src/core/errors.ts';
import type { Change } from '../../src/core/change.ts';
import { registry } from '../../src/controller/metrics.ts';

const A = 'test';

async function setup(t: { teardown(fn: () => unknown): void }) {
  const dir = await mkdtemp(pathJoin(tmpdir(), 'meshctl-dnsx-'));
  const store = await SqliteStore.open(dir);
  const exporter = new DnsExporter(store, dir, undefined, 20);
  t.teardown(async () => {
    exporter.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  await store.createNetwork(newNetwork({ name: 'office', cidr: '10.10.0.0/24' }), A);
  const secret = newSecret();
  await store.createKey({ network: 'office', name: 'k', secretHash: hashSecret(secret), usesRemaining: null, expiresAt: null }, A);
  const join = (name: string) => store.joinNode({ network: 'office', name: 'k', secret }, {
    id: randomUUID(), network: 'office', name, publicKey: randomBytes(32).toString('base64'), endpoint: null, endpointStated: false, listenPort: 51821, credentialHash: hashSecret(newSecret()),
  }, new Date());
  return { dir, store, exporter, join };
}

const code = async (p: Promise<unknown>) => p.then(() => 'ok', (e) => (e instanceof MeshError ? e.code : String(e)));

t.test('the hosts file lists every node and record and changes when they do', async (t) => {
  const { dir, store, exporter, join } = await setup(t);
  await exporter.writeAll();
  const path = hostsPath(dir, 'office.internal');
  t.equal(path, pathJoin(dir, 'dns', 'office.internal.hosts'));
  const lines = async () => (await readFile(path, 'utf8')).split('\n').filter((l) => l && !l.startsWith('#'));
  t.same(await lines(), []);
  await join('n1');
  await join('n2');
  await store.addDns('office', 'printer', '192.168.1.50', A);
  await store.addDns('office', 'db', 'n2.office.internal', A);
  await exporter.idle();
  t.same(await lines(), ['10.10.0.2\tdb.office.internal', '10.10.0.1\tn1.office.internal', '10.10.0.2\tn2.office.internal', '192.168.1.50\tprinter.office.internal']);
  await store.deleteNode('office', 'n1', A);
  await store.removeDns('office', 'printer', A);
  await exporter.idle();
  t.same(await lines(), ['10.10.0.2\tdb.office.internal', '10.10.0.2\tn2.office.internal']);
  const ex = await exportOf(store, dir, (await store.getNetwork('office'))!);
  t.equal(ex.hosts, await readFile(path, 'utf8'), 'dns export prints the same text');
  t.match(ex.corefile, `hosts ${path}`);
  // A new domain moves the file; deleting the network removes it.
  await store.updateNetwork('office', { domain: 'corp.example' }, A);
  await exporter.idle();
  t.notOk(existsSync(path));
  t.ok(existsSync(hostsPath(dir, 'corp.example')));
  await store.deleteNetwork('office', true, A);
  await exporter.idle();
  t.same(await readdir(pathJoin(dir, 'dns')), []);
  t.match(await registry.metrics(), /meshctl_dns_hosts_files_written_total\{network="office"\} [1-9]/, 'the rewrites are counted');
});

t.test('records: one name space with the nodes; CNAMEs must point at a name; deltas carry them', async (t) => {
  const { store, join } = await setup(t);
  const changes: Change[] = [];
  store.subscribe((c) => changes.push(c));
  await join('n1');
  t.equal(await code(store.addDns('office', 'n1', '10.10.0.9', A)), 'NAME_TAKEN');
  t.equal(await code(store.addDns('office', 'web', 'nothere', A)), 'NOT_FOUND');
  t.equal(await code(store.addDns('office', 'web', 'www.example.com', A)), 'INVALID_ARGUMENT');
  const rec = await store.addDns('office', 'web', 'n1', A);
  t.same(rec, { name: 'web', network: 'office', type: 'CNAME', address: 'n1', source: 'custom' });
  t.same(changes.at(-1), { kind: 'dns', network: 'office', version: (await store.getNetwork('office'))!.version, upserted: [{ name: 'web', type: 'CNAME', address: 'n1' }], removed: [] });
  t.same(await store.listRecords('office'), [{ name: 'web', type: 'CNAME', address: 'n1' }]);
  t.equal(await code(store.createNetwork(newNetwork({ name: 'other', cidr: '10.20.0.0/24', domain: 'office.internal' }), A)), 'ALREADY_EXISTS', 'two networks cannot share a domain');
});
