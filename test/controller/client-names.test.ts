// Issue 11: external clients have DNS names `<client>.<domain>` when private DNS exists. One name
// space per network for nodes, clients and custom records, on both store engines; every node is
// told (a `dns` change) when a client's name starts or stops resolving, and the views built from
// the store carry it, so every node's responder and hosts file answer it.
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { newNetwork } from '../../src/core/network.ts';
import { hashSecret, newSecret } from '../../src/core/secret.ts';
import { generateKeyPair } from '../../src/core/wg-key.ts';
import { buildView } from '../../src/core/view.ts';
import { zoneAddresses, zoneOf } from '../../src/core/dns-zone.ts';
import { applyDelta, deltaFor, type Change } from '../../src/core/change.ts';
import type { NewNode, Store } from '../../src/controller/store/store.ts';
import { zoneFromStore } from '../../src/controller/dns-export.ts';
import { storeBackends } from '../helpers/store-backends.ts';

t.setTimeout(240_000); // a PostgreSQL cluster starts first, on a loaded machine

const newNode = (name: string): NewNode => ({
  id: randomUUID(), network: 'office', name, publicKey: generateKeyPair().publicKey, endpoint: null, endpointStated: false, listenPort: 51821, credentialHash: hashSecret(newSecret()),
});
const client = (name: string, gateway = 'gw') => ({ network: 'office', name, gateway, publicKey: generateKeyPair().publicKey, dns: false, fullTunnel: false });

/** Every name of n2's view (built as the controller builds it) -> address, as its hosts file has it. */
async function namesSeenBy(store: Store, node: string): Promise<Record<string, string>> {
  const net = (await store.getNetwork('office'))!;
  const rows = await store.listNodes('office');
  const view = buildView(rows.find((r) => r.name === node)!, net, rows, await store.listClients('office'), await store.listRecords('office'));
  return Object.fromEntries(zoneAddresses(zoneOf(view)).map((e) => [e.name, e.address]));
}

for (const be of storeBackends()) {
  t.test(`${be.name}: a client's name resolves while it is enabled, and is nobody else's`, { skip: be.skip }, async (t) => {
    const store = await (await be.home(t)).open();
    await store.createNetwork(newNetwork({ name: 'office', cidr: '10.10.0.0/24' }), 'test');
    const secret = newSecret();
    await store.createKey({ network: 'office', name: 'k', secretHash: hashSecret(secret), usesRemaining: null, expiresAt: null }, 'test');
    const key = { network: 'office', name: 'k', secret };
    await store.joinNode(key, newNode('gw'), new Date());
    await store.joinNode(key, newNode('n2'), new Date());
    await store.setGateway('office', 'gw', { ingress: true }, 'test');
    await store.addDns('office', 'printer', '10.10.0.200', 'test');

    // n2's view before, kept up to date by the deltas the changes make (as an agent does).
    const net0 = (await store.getNetwork('office'))!;
    const rows0 = await store.listNodes('office');
    const n2row = rows0.find((r) => r.name === 'n2')!;
    let held = buildView(n2row, net0, rows0, await store.listClients('office'), await store.listRecords('office'));
    const seen: Change[] = [];
    store.subscribe((c) => {
      seen.push(c);
      const d = deltaFor({ id: n2row.id, approved: true }, c);
      if (typeof d === 'object') held = applyDelta(held, c.version, d);
    });
    const settle = async (n: number) => { for (let i = 0; i < 500 && seen.length < n; i++) await new Promise((r) => setTimeout(r, 10)); };

    const phone = await store.createClient(client('phone'), 'test');
    t.same((await store.listRecords('office')).map((r) => [r.name, r.type, r.address]), [['phone', 'A', phone.address], ['printer', 'A', '10.10.0.200']], 'views carry the client\'s name beside the custom records');
    t.match(await store.listDns('office'), [{ name: 'gw', source: 'node' }, { name: 'n2', source: 'node' }, { name: 'printer', source: 'custom' }, { name: 'phone', source: 'client', type: 'A', address: phone.address }]);
    t.equal((await namesSeenBy(store, 'n2'))['phone.office.internal'], phone.address, 'n2 resolves phone.office.internal');
    t.equal((await zoneFromStore(store, (await store.getNetwork('office'))!)).hosts.get('phone')?.a, phone.address, 'the controller\'s CoreDNS hosts file has it too');
    await settle(2);
    const dnsChanges = () => seen.filter((c): c is Extract<Change, { kind: 'dns' }> => c.kind === 'dns').map((c) => [c.upserted.map((r) => r.name), c.removed]);
    t.same(dnsChanges(), [[['phone'], []]], 'every node is told the name');
    t.same(held.records, (await store.listRecords('office')), 'a node following the deltas holds the same records as a fresh view');

    // One name space: a record, a node or a second client cannot take it, nor a client theirs.
    await t.rejects(store.addDns('office', 'phone', '10.10.0.201', 'test'), { code: 'NAME_TAKEN', message: /external client/ });
    await t.rejects(store.joinNode(key, newNode('phone'), new Date()), { code: 'NAME_TAKEN', message: /external client/ });
    await t.rejects(store.createClient(client('phone'), 'test'), { code: 'ALREADY_EXISTS' });
    await t.rejects(store.createClient(client('printer'), 'test'), { code: 'NAME_TAKEN', message: /custom DNS record/ });
    await t.rejects(store.createClient(client('n2'), 'test'), { code: 'NAME_TAKEN', message: /node/ });
    await t.rejects(store.removeDns('office', 'phone', 'test'), { code: 'NOT_FOUND', message: /external client's record.*goes away with the client/ });
    t.match(await store.addDns('office', 'mobile', 'phone', 'test'), { type: 'CNAME', address: 'phone' }, 'a CNAME may point at a client');

    // Disabled: routed nowhere and resolving nowhere; enabled again: back.
    const before = seen.length;
    await store.setClientEnabled('office', 'phone', false, 'test');
    await settle(before + 2);
    t.notOk('phone.office.internal' in (await namesSeenBy(store, 'n2')), 'a disabled client\'s name does not resolve');
    t.same(dnsChanges().at(-1), [[], ['phone']]);
    await store.setClientEnabled('office', 'phone', true, 'test');
    t.equal((await namesSeenBy(store, 'n2'))['phone.office.internal'], phone.address);

    // Deleted, or gone with its gateway: the name goes, and every node is told.
    await store.deleteClient('office', 'phone', 'test');
    t.notOk('phone.office.internal' in (await namesSeenBy(store, 'n2')));
    await store.createClient(client('tablet'), 'test');
    await store.createClient(client('tv'), 'test');
    await store.setClientEnabled('office', 'tv', false, 'test');
    const n = seen.length;
    await store.deleteNode('office', 'gw', 'test');
    await settle(n + 2);
    t.same(seen.slice(n).map((c) => c.kind), ['node-removed', 'dns']);
    t.same(dnsChanges().at(-1), [[], ['tablet']], 'the enabled clients of a deleted gateway stop resolving');
    t.same((await store.listRecords('office')).map((r) => r.name), ['mobile', 'printer']);
    await settle(seen.length);
    t.same(held.records, await store.listRecords('office'), 'after all of it, the deltas still add up to a fresh view');
  });
}
