// The store's side of a retried join (issue 9), on both engines: the same name, public key and
// key secret within the window, before any contact, give the same node a new credential and
// spend nothing; anything else is a new join as before.
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { storeBackends } from '../helpers/store-backends.ts';
import { newNetwork } from '../../src/core/network.ts';
import { hashSecret, newSecret } from '../../src/core/secret.ts';
import { generateKeyPair } from '../../src/core/wg-key.ts';
import { JOIN_RETRY_MS } from '../../src/core/join-retry.ts';
import type { NewNode } from '../../src/controller/store/store.ts';

for (const backend of storeBackends()) {
  t.test(`join retry on ${backend.name}`, { skip: backend.skip }, async (t) => {
    const store = await (await backend.home(t)).open();
    await store.createNetwork(newNetwork({ name: 'office', cidr: '10.10.0.0/24' }), 'test');
    const secret = newSecret();
    await store.createKey({ network: 'office', name: 'once', secretHash: hashSecret(secret), usesRemaining: 1, expiresAt: null }, 'test');
    const key = { network: 'office', name: 'once', secret };
    const node = (over: Partial<NewNode> = {}): NewNode => ({ id: randomUUID(), network: 'office', name: 'n1', publicKey: pk, endpoint: null, endpointStated: false, listenPort: 51821, credentialHash: hashSecret(newSecret()), ...over });
    const pk = generateKeyPair().publicKey;
    const changes: string[] = [];
    store.subscribe((c) => changes.push(c.kind));
    const first = await store.joinNode(key, node(), new Date());
    const cred = hashSecret(newSecret());
    const again = await store.joinNode(key, node({ credentialHash: cred }), new Date());
    t.equal(again.id, first.id, 'the same node');
    t.equal(again.address, first.address);
    t.equal((await store.getNodeById(first.id))!.credentialHash, cred, 'the new credential is stored');
    t.equal((await store.listNodes('office')).length, 1);
    t.equal((await store.listKeys('office'))[0]!.usesRemaining, 0, 'spent once');
    t.same(changes, ['node-upserted'], 'no second change: nothing nodes see changed');
    t.equal((await store.listAudit(1))[0]!.action, 'node.join-retry');
    await t.rejects(store.joinNode(key, node({ publicKey: generateKeyPair().publicKey }), new Date()), { code: 'KEY_USED_UP' }, 'another public key');
    await t.rejects(store.joinNode({ ...key, secret: newSecret() }, node(), new Date()), { code: 'KEY_INVALID' }, 'another secret');
    await t.rejects(store.joinNode(key, node(), new Date(Date.now() + JOIN_RETRY_MS + 1000)), { code: 'KEY_USED_UP' }, 'after the window');
    await store.revokeKey('office', 'once', 'test');
    await t.rejects(store.joinNode(key, node(), new Date()), { code: 'KEY_REVOKED' }, 'a revoked key');
  });
}
