// Issue 8 item 7: one name space per network for node names and custom DNS records, checked
// both ways, in the store's transaction, on both store engines. Before, `dns add office printer`
// then a join named printer succeeded and `dns list` showed printer.office twice.
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { generateKeyPair } from '../../src/core/wg-key.ts';
import { storeBackends } from '../helpers/store-backends.ts';
import { newNetwork } from '../../src/core/network.ts';
import { hashSecret, newSecret } from '../../src/core/secret.ts';
import { assertNameFree } from '../../src/core/names.ts';
import type { NewNode } from '../../src/controller/store/store.ts';

const ACTOR = 'admin:test';
const pub = () => generateKeyPair().publicKey;
const node = (network: string, name: string): NewNode => ({ id: randomUUID(), network, name, publicKey: pub(), endpoint: null, endpointStated: false, listenPort: 51821, credentialHash: hashSecret(newSecret()) });

t.test('core: the rule both ways', async (t) => {
  t.throws(() => assertNameFree('office', 'printer', 'node', { node: false, record: true }), { code: 'NAME_TAKEN', message: /"printer" is a custom DNS record in network "office"/ });
  t.throws(() => assertNameFree('office', 'n1', 'record', { node: true, record: false }), { code: 'NAME_TAKEN' });
  t.throws(() => assertNameFree('office', 'n1', 'node', { node: true, record: false }), { code: 'NAME_TAKEN' });
  t.throws(() => assertNameFree('office', 'p', 'record', { node: false, record: true }), { code: 'ALREADY_EXISTS' });
  t.doesNotThrow(() => assertNameFree('office', 'free', 'node', { node: false, record: false }));
});

for (const b of storeBackends()) {
  t.test(`${b.name}: a join may not take a record's name, nor a record a node's`, { skip: b.skip }, async (t) => {
    const store = await (await b.home(t)).open();
    await store.createNetwork(newNetwork({ name: 'office', cidr: '10.10.0.0/24' }), ACTOR);
    await store.createNetwork(newNetwork({ name: 'other', cidr: '10.20.0.0/24' }), ACTOR);
    const secret = newSecret();
    await store.createKey({ network: 'office', name: 'k', secretHash: hashSecret(secret), usesRemaining: null, expiresAt: null }, ACTOR);
    await store.createKey({ network: 'other', name: 'k', secretHash: hashSecret(secret), usesRemaining: null, expiresAt: null }, ACTOR);
    const key = (network: string) => ({ network, name: 'k', secret });
    await store.addDns('office', 'printer', '192.168.1.20', ACTOR);
    await t.rejects(store.joinNode(key('office'), node('office', 'printer'), new Date()), { code: 'NAME_TAKEN', message: /custom DNS record/ });
    t.same((await store.listDns('office')).filter((r) => r.name === 'printer').length, 1, 'printer.office is listed once');
    t.same((await store.listNodes('office')).map((n) => n.name), [], 'and no node was added');
    await store.joinNode(key('other'), node('other', 'printer'), new Date()); // another network: its own name space
    await store.joinNode(key('office'), node('office', 'n1'), new Date());
    await t.rejects(store.addDns('office', 'n1', '10.10.0.200', ACTOR), { code: 'NAME_TAKEN' });
    await t.rejects(store.addDns('office', 'printer', '10.10.0.201', ACTOR), { code: 'ALREADY_EXISTS' });
  });
}
