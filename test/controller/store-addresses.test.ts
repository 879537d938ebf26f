// Address allocation at a network's edges, on both engines: the first and last host, addresses
// freed by nodes and clients handed out again (lowest first), a full /24 refused with
// IP_POOL_EXHAUSTED, concurrent joins into a nearly full range, and a database whose networks
// predate the address pool (its pool is built from the addresses in use).
import t from 'tap';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { newNetwork } from '../../src/core/network.ts';
import { hashSecret, newSecret } from '../../src/core/secret.ts';
import { MeshError } from '../../src/core/errors.ts';
import type { NewNode, Store } from '../../src/controller/store/store.ts';
import { SqliteStore } from '../../src/controller/store/sqlite/index.ts';
import { storeBackends } from '../helpers/store-backends.ts';

const ACTOR = 'test';
const NOW = new Date();

const newNode = (network: string, name: string): NewNode => ({
  id: randomUUID(), network, name, publicKey: randomBytes(32).toString('base64'),
  endpoint: '203.0.113.7:51821', endpointStated: true, listenPort: 51821, credentialHash: hashSecret(newSecret()),
});

async function unlimitedKey(store: Store, network: string) {
  const secret = newSecret();
  await store.createKey({ network, name: 'k', secretHash: hashSecret(secret), usesRemaining: null, expiresAt: null }, ACTOR);
  return { network, name: 'k', secret };
}

const exhausted = (e: unknown) => e instanceof MeshError && e.code === 'IP_POOL_EXHAUSTED' && /10\.9\.9\.0\/24/.test(e.message);

for (const backend of storeBackends()) {
  t.test(`address allocation on ${backend.name}`, { skip: backend.skip }, async (t) => {
    t.test('a full /24: .1 first, .254 last, the 255th join refused; freed addresses come back lowest first', async (t) => {
      const store = await (await backend.home(t)).open();
      await store.createNetwork(newNetwork({ name: 'full', cidr: '10.9.9.0/24' }), ACTOR);
      const key = await unlimitedKey(store, 'full');
      const first = await store.joinNode(key, newNode('full', 'n1'), NOW);
      assert.equal(first.address, '10.9.9.1', 'the first host, never the network address');
      // the rest concurrently: 253 distinct addresses, .2 to .254
      const rest = await Promise.all(Array.from({ length: 253 }, (_, i) => store.joinNode(key, newNode('full', `n${i + 2}`), NOW)));
      const all = [first, ...rest].map((n) => n.address);
      assert.equal(new Set(all).size, 254, 'no address handed out twice');
      assert.deepEqual(new Set(all), new Set(Array.from({ length: 254 }, (_, i) => `10.9.9.${i + 1}`)));
      assert.ok(all.includes('10.9.9.254'), 'the last host');
      assert.ok(!all.includes('10.9.9.255'), 'never the broadcast address');

      await assert.rejects(store.joinNode(key, newNode('full', 'one-too-many'), NOW), exhausted);
      assert.equal((await store.listNodes('full')).length, 254, 'the refused join left nothing behind');

      // free three addresses out of order: they come back lowest first, then the range is full again
      for (const a of ['10.9.9.200', '10.9.9.7', '10.9.9.254']) {
        const n = [first, ...rest].find((x) => x.address === a)!;
        await store.deleteNode('full', n.name, ACTOR);
      }
      assert.equal((await store.joinNode(key, newNode('full', 'again-1'), NOW)).address, '10.9.9.7');
      assert.equal((await store.joinNode(key, newNode('full', 'again-2'), NOW)).address, '10.9.9.200');
      assert.equal((await store.joinNode(key, newNode('full', 'again-3'), NOW)).address, '10.9.9.254');
      await assert.rejects(store.joinNode(key, newNode('full', 'again-4'), NOW), exhausted);

      // a node that leaves frees its address as well; a refused join does not eat one
      const n9 = (await store.listNodes('full')).find((n) => n.address === '10.9.9.9')!;
      await store.leaveNode(n9.id);
      assert.equal((await store.joinNode(key, newNode('full', 'after-leave'), NOW)).address, '10.9.9.9');
    });

    t.test('clients and nodes share the pool; a deleted gateway frees its clients\' addresses too', async (t) => {
      const store = await (await backend.home(t)).open();
      await store.createNetwork(newNetwork({ name: 'gw', cidr: '10.8.0.0/29' }), ACTOR); // hosts .1-.6
      const key = await unlimitedKey(store, 'gw');
      const gw = await store.joinNode(key, newNode('gw', 'gw'), NOW);
      await store.setGateway('gw', 'gw', { ingress: true }, ACTOR);
      const c1 = await store.createClient({ network: 'gw', name: 'c1', publicKey: randomBytes(32).toString('base64'), gateway: 'gw', dns: false, fullTunnel: false }, ACTOR);
      const n2 = await store.joinNode(key, newNode('gw', 'n2'), NOW);
      const c2 = await store.createClient({ network: 'gw', name: 'c2', publicKey: randomBytes(32).toString('base64'), gateway: 'gw', dns: false, fullTunnel: false }, ACTOR);
      assert.deepEqual([gw.address, c1.address, n2.address, c2.address], ['10.8.0.1', '10.8.0.2', '10.8.0.3', '10.8.0.4']);
      await store.deleteClient('gw', 'c1', ACTOR);
      assert.equal((await store.joinNode(key, newNode('gw', 'n3'), NOW)).address, '10.8.0.2', 'a deleted client\'s address');
      await store.deleteClient('gw', 'c2', ACTOR);
      await store.deleteNode('gw', 'gw', ACTOR); // takes nothing else with it now
      const got = await Promise.all(['a', 'b', 'c', 'd'].map((n) => store.joinNode(key, newNode('gw', n), NOW)));
      assert.deepEqual(new Set(got.map((n) => n.address)), new Set(['10.8.0.1', '10.8.0.4', '10.8.0.5', '10.8.0.6']));

      // a gateway deleted with its clients: all of their addresses are free again
      await store.setGateway('gw', 'a', { ingress: true }, ACTOR);
      await assert.rejects(store.createClient({ network: 'gw', name: 'x', publicKey: randomBytes(32).toString('base64'), gateway: 'a', dns: false, fullTunnel: false }, ACTOR), (e: unknown) => e instanceof MeshError && e.code === 'IP_POOL_EXHAUSTED');
      await store.deleteNode('gw', 'n3', ACTOR); // frees .2
      const cx = await store.createClient({ network: 'gw', name: 'cx', publicKey: randomBytes(32).toString('base64'), gateway: 'a', dns: false, fullTunnel: false }, ACTOR);
      const a = got.find((n) => n.name === 'a')!;
      assert.equal(cx.address, '10.8.0.2');
      await store.deleteNode('gw', 'a', ACTOR); // its client cx goes with it
      const back = await Promise.all(['e', 'f'].map((n) => store.joinNode(key, newNode('gw', n), NOW)));
      assert.deepEqual(new Set(back.map((n) => n.address)), new Set(['10.8.0.2', a.address]));
    });

    t.test('a network deleted and made again starts from its first host', async (t) => {
      const store = await (await backend.home(t)).open();
      await store.createNetwork(newNetwork({ name: 'again', cidr: '10.7.0.0/24' }), ACTOR);
      let key = await unlimitedKey(store, 'again');
      for (let i = 0; i < 5; i++) await store.joinNode(key, newNode('again', `n${i}`), NOW);
      await store.deleteNetwork('again', true, ACTOR);
      await store.createNetwork(newNetwork({ name: 'again', cidr: '10.7.0.0/24' }), ACTOR);
      key = await unlimitedKey(store, 'again');
      assert.equal((await store.joinNode(key, newNode('again', 'x'), NOW)).address, '10.7.0.1');
    });
  });
}

t.test('a database whose network has no pool yet builds it from the addresses in use', async (t) => {
  const backend = storeBackends()[0]!;
  const store = (await (await backend.home(t)).open()) as SqliteStore;
  await store.createNetwork(newNetwork({ name: 'old', cidr: '10.6.0.0/24' }), ACTOR);
  const key = await unlimitedKey(store, 'old');
  for (let i = 0; i < 6; i++) await store.joinNode(key, newNode('old', `n${i}`), NOW);
  await store.deleteNode('old', 'n1', ACTOR); // .2
  await store.deleteNode('old', 'n3', ACTOR); // .4
  // as a database migrated from before the pool: no cursor, no free list
  await store.engine.write((sql) => {
    sql.run('UPDATE networks SET next_address = NULL');
    sql.run('DELETE FROM free_addresses');
  });
  const got = [];
  for (const n of ['a', 'b', 'c']) got.push((await store.joinNode(key, newNode('old', n), NOW)).address);
  assert.deepEqual(got, ['10.6.0.2', '10.6.0.4', '10.6.0.7']);
  // and a pool that disagrees with the table (an address in use listed as free) skips it
  await store.engine.write((sql) => sql.run('INSERT INTO free_addresses (network, address) VALUES (?, ?)', ['old', (10 << 24 >>> 0) + (6 << 16) + 1]));
  assert.equal((await store.joinNode(key, newNode('old', 'd'), NOW)).address, '10.6.0.8');
});
