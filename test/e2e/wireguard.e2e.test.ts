// The WireGuard adapter on real wireguard-go, between two lab hosts.
import t from 'tap';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { ExecaRunner } from '../../src/platform/runner.ts';
import { publicKeyOfFile, readActual, removeInterface, setConfig, type WgConfig } from '../../src/platform/wireguard.ts';
import { createLab, sweepStale, uniquePrefix, type Lab } from './lab.ts';
import { prereqSkip } from './prereqs.ts';

const skip = await prereqSkip();
const IF = 'mesh-e2e'; // the same name on both hosts: proves the per-host /var/run/wireguard
const PORT = 51821;
const meshIp = (i: number) => `10.77.0.${i + 1}`;

async function makeKey(lab: Lab, host: string): Promise<{ path: string; publicKey: string }> {
  const priv = (await lab.run(host, ['wg', 'genkey'])).stdout;
  const path = `${lab.dir(host)}/etc/private.key`;
  await writeFile(path, priv + '\n', { mode: 0o600 });
  return { path, publicKey: (await lab.run(host, ['wg', 'pubkey'], { input: priv })).stdout };
}

async function pingUntil(lab: Lab, host: string, ip: string, tries = 5): Promise<number> {
  for (let i = 1; i <= tries; i++) {
    if ((await lab.run(host, ['ping', '-c1', '-W1', ip], { allowFail: true })).exitCode === 0) return i;
  }
  throw new Error(`${host} cannot ping ${ip} after ${tries} tries`);
}

t.test('setConfig builds a working two-node mesh on wireguard-go, idempotently', { skip, timeout: 90_000 }, async (t) => {
  await sweepStale('mt');
  const lab = await createLab({ prefix: uniquePrefix('mt'), hosts: ['n1', 'n2'] });
  t.teardown(async () => {
    const t1 = performance.now();
    await lab.destroy();
    t.comment(`lab destroy: ${(performance.now() - t1).toFixed(0)} ms`);
  });
  const hosts = ['n1', 'n2'];
  const keys = [await makeKey(lab, 'n1'), await makeKey(lab, 'n2')];
  for (const k of keys) assert.equal(await publicKeyOfFile(k.path), k.publicKey, 'node:crypto derives the same public key as `wg pubkey`');

  const cfg = (i: number): WgConfig => {
    const j = 1 - i;
    return { interface: IF, privateKeyPath: keys[i]!.path, listenPort: PORT, address: `${meshIp(i)}/24`,
      peers: [{ publicKey: keys[j]!.publicKey, allowedIps: [`${meshIp(j)}/32`], endpoint: `${lab.ip(hosts[j]!)}:${PORT}`, keepalive: 0 }] };
  };

  let t0 = performance.now();
  for (const [i, h] of hosts.entries()) {
    const changes = await setConfig(lab.runner(h), cfg(i));
    assert.deepEqual(changes.map((c) => c.kind), ['set-private-key', 'set-listen-port', 'add-peer', 'set-address', 'link-up']);
  }
  t.comment(`setConfig x2 on fresh hosts (wireguard-go start included): ${(performance.now() - t0).toFixed(0)} ms`);

  t0 = performance.now();
  const tries = await pingUntil(lab, 'n1', meshIp(1));
  t.comment(`first ping n1 -> n2 over the mesh: ${(performance.now() - t0).toFixed(0)} ms, ${tries} tr${tries === 1 ? 'y' : 'ies'}`);
  await pingUntil(lab, 'n2', meshIp(0));

  const actual = await readActual(lab.runner('n1'), IF);
  assert.ok(actual, 'interface exists on n1');
  assert.equal(actual.publicKey, keys[0]!.publicKey);
  assert.deepEqual(actual.addresses, [`${meshIp(0)}/24`]);
  assert.equal(actual.peers.length, 1);
  assert.ok(actual.peers[0]!.latestHandshake > 0, 'a handshake happened');
  assert.ok(actual.peers[0]!.rxBytes > 0 && actual.peers[0]!.txBytes > 0);
  assert.equal(await readActual(new ExecaRunner(), IF), null, 'nothing leaked into the root namespace');

  t0 = performance.now();
  for (const [i, h] of hosts.entries()) assert.deepEqual(await setConfig(lab.runner(h), cfg(i)), [], `second setConfig on ${h} changes nothing`);
  t.comment(`setConfig x2 in step (no changes): ${(performance.now() - t0).toFixed(0)} ms`);

  const removed = await setConfig(lab.runner('n1'), { ...cfg(0), peers: [] });
  assert.deepEqual(removed.map((c) => c.kind), ['remove-peer']);
  assert.equal((await lab.run('n1', ['wg', 'show', IF, 'peers'])).stdout, '');
  assert.notEqual((await lab.run('n1', ['ping', '-c1', '-W1', meshIp(1)], { allowFail: true })).exitCode, 0, 'traffic to a removed peer goes nowhere');

  assert.equal(await removeInterface(lab.runner('n2'), IF), true);
  assert.equal(await removeInterface(lab.runner('n2'), IF), false, 'removing twice is a no-op');
  let pids = 'x';
  for (let i = 0; i < 40 && pids !== ''; i++) {
    pids = (await new ExecaRunner().run(['ip', 'netns', 'pids', lab.ns('n2')])).stdout;
    if (pids) await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(pids, '', 'deleting the link ended wireguard-go on n2');
});
