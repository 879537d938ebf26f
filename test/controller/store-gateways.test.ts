// Gateways and external clients in the store, on both engines (sql.js and PostgreSQL): roles,
// overlap refusals, client addresses free of nodes, the changes every node is told, cascades.
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { newNetwork } from '../../src/core/network.ts';
import { hashSecret, newSecret } from '../../src/core/secret.ts';
import { generateKeyPair } from '../../src/core/wg-key.ts';
import type { Change } from '../../src/core/change.ts';
import type { NewNode } from '../../src/controller/store/store.ts';
import { storeBackends } from '../helpers/store-backends.ts';

t.setTimeout(240_000); // a PostgreSQL cluster starts first, on a loaded machine

const newNode = (name: string): NewNode => ({
  id: randomUUID(), network: 'office', name, publicKey: generateKeyPair().publicKey, endpoint: null, endpointStated: false, listenPort: 51821, credentialHash: hashSecret(newSecret()),
});

for (const be of storeBackends()) {
  t.test(`${be.name}: gateway roles and external clients`, { skip: be.skip }, async (t) => {
    const store = await (await be.home(t)).open();
    await store.createNetwork(newNetwork({ name: 'office', cidr: '10.10.0.0/24' }), 'test');
    const secret = newSecret();
    await store.createKey({ network: 'office', name: 'k', secretHash: hashSecret(secret), usesRemaining: null, expiresAt: null }, 'test');
    const key = { network: 'office', name: 'k', secret };
    const gw = await store.joinNode(key, newNode('gw'), new Date());
    const n2 = await store.joinNode(key, newNode('n2'), new Date());
    t.match(gw, { ingress: false, egressRanges: [], egressNat: false, clientAddresses: [] });
    const seen: Change[] = [];
    store.subscribe((c) => seen.push(c));
    const until = async (n: number) => { for (let i = 0; i < 500 && seen.length < n; i++) await new Promise((r) => setTimeout(r, 10)); };

    await t.rejects(store.createClient({ network: 'office', name: 'phone', gateway: 'gw', publicKey: generateKeyPair().publicKey, dns: false, fullTunnel: false }, 'test'), { code: 'NOT_A_GATEWAY' });
    t.match(await store.setGateway('office', 'gw', { ingress: true, egress: { ranges: ['192.168.7.0/24'], nat: true } }, 'test'), { ingress: true, egressRanges: ['192.168.7.0/24'], egressNat: true });
    await t.rejects(store.setGateway('office', 'n2', { egress: { ranges: ['192.168.0.0/16'], nat: false } }, 'test'), { code: 'CIDR_OVERLAP' });
    await t.rejects(store.setGateway('office', 'n2', { egress: { ranges: ['10.10.0.0/28'], nat: false } }, 'test'), { code: 'CIDR_OVERLAP' });
    const pk = generateKeyPair().publicKey;
    const phone = await store.createClient({ network: 'office', name: 'phone', gateway: 'gw', publicKey: pk, dns: true, fullTunnel: false }, 'test');
    t.match(phone, { name: 'phone', address: '10.10.0.3', publicKey: pk, gatewayId: gw.id, gateway: 'gw', enabled: true, dns: true, fullTunnel: false });
    t.same((await store.getNode('office', 'gw'))!.clientAddresses, ['10.10.0.3']);
    const n3 = await store.joinNode(key, newNode('n3'), new Date());
    t.equal(n3.address, '10.10.0.4', 'a node never takes a client\'s address');
    await t.rejects(store.joinNode(key, { ...newNode('phone') }, new Date()), { code: 'NAME_TAKEN' });

    await until(4);
    t.same(seen.slice(0, 4).map((c) => (c.kind === 'node-upserted' ? [c.kind, c.node.name, c.node.clientAddresses ?? [], c.node.egressRanges ?? []]
      : c.kind === 'dns' ? [c.kind, c.upserted.map((r) => `${r.name} ${r.type} ${r.address}`), c.removed] : [c.kind])), [
      ['node-upserted', 'gw', [], ['192.168.7.0/24']],
      ['node-upserted', 'gw', ['10.10.0.3'], ['192.168.7.0/24']],
      ['dns', ['phone A 10.10.0.3'], []],
      ['node-upserted', 'n3', [], []],
    ], 'each change to what peers route to the gateway is a change of the gateway node, carried whole; the client\'s name follows');

    t.match(await store.setClientEnabled('office', 'phone', false, 'test'), { enabled: false });
    t.same((await store.getNode('office', 'gw'))!.clientAddresses, [], 'a disabled client is routed nowhere');
    await t.rejects(store.setGateway('office', 'gw', { ingress: false }, 'test'), { code: 'GATEWAY_IN_USE' });
    t.same((await store.listClients('office')).map((c) => c.name), ['phone']);
    t.match(await store.deleteClient('office', 'phone', 'test'), { name: 'phone' });
    t.equal(await store.getClient('office', 'phone'), undefined);
    t.match(await store.setGateway('office', 'gw', { ingress: false, egress: null }, 'test'), { ingress: false, egressRanges: [], egressNat: false });

    // A gateway node that goes takes its clients with it.
    await store.setGateway('office', 'n2', { ingress: true }, 'test');
    await store.createClient({ network: 'office', name: 'tab', gateway: 'n2', publicKey: generateKeyPair().publicKey, dns: false, fullTunnel: true }, 'test');
    await store.deleteNode('office', 'n2', 'test');
    t.same(await store.listClients('office'), []);
  });
}
