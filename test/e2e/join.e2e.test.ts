// Issue 3 acceptance, end to end: a real controller and real agents (`meshctl join/checkin/leave/
// status` through bin/run.js) on lab hosts, with wireguard-go between them. One lab and one
// controller serve every step to save start-up time; each step names the steps it builds on and is
// skipped, not failed again, when one of those failed.
import t from 'tap';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { ExecaRunner } from '../../src/platform/runner.ts';
import { createLab, sweepStale, uniquePrefix, type Lab, type LabProcess } from './lab.ts';
import { prereqSkip } from './prereqs.ts';
import { bare, count, dropMeshctlEnv, meshTools, secs, sleep, stepper, type CheckinOut, type NodeOut } from './mesh-helpers.ts';

const skip = await prereqSkip();
const STEM = 'mj';
const NODES = ['n1', 'n2', 'n3', 'n4'];

dropMeshctlEnv();

/** Whether `addr` (with or without a prefix length) is a host address in `prefix24`.0/24. */
const inRange = (addr: string, prefix24: string) => {
  const m = new RegExp(`^${prefix24.replace(/\./g, '\\.')}\\.(\\d+)$`).exec(bare(addr));
  return m !== null && Number(m[1]) >= 1 && Number(m[1]) <= 254;
};

t.test('issue 3: nodes join a real mesh, are removed, leave, and wait for approval', { skip, timeout: 180_000 }, async (t) => {
  await sweepStale(STEM);
  const t0 = performance.now();
  // n5 only ever tries joins that must be refused.
  const lab: Lab = await createLab({ prefix: uniquePrefix(STEM), hosts: ['ctl', ...NODES, 'n5'] });
  let server: LabProcess | undefined;
  t.teardown(async () => {
    await lab.destroy();
  });
  const D = `${lab.dir('ctl')}/data`;
  const { etc, mc, explain, ok, admin, join, status, entry, nodesList, startController, wgPeers, linkExists, meshPings } = meshTools(lab, D);

  /** Asserts a human-mode failure: exit 1 and `Error (CODE): message` on stderr; returns the message. */
  const refused = async (host: string, args: string[], code: string): Promise<string> => {
    const r = await mc(host, args);
    const m = new RegExp(`^Error \\(${code}\\): (.+)$`, 'm').exec(r.stderr);
    assert.ok(r.exitCode === 1 && m, `expected exit 1 with "Error (${code}): …" on stderr:\n${explain(host, args, r)}`);
    return m[1]!;
  };
  const checkin = (host: string) => ok<CheckinOut[]>(host, ['checkin', '--config-dir', etc(host), '--json']);

  const step = stepper(t, (st) => {
    if (server) st.comment(`controller output (last 3000 chars):\n${server.output().slice(-3000)}`);
  });

  const office: Record<string, string> = {}; // host -> mesh address in office
  const lab2: Record<string, string> = {};
  let listed = new Map<string, NodeOut>();

  await step('0', 'the controller starts on ctl and answers admin commands there', [], async () => {
    server = await startController();
    const net = await admin<{ name: string; cidr: string }>(['network', 'create', 'office', '--cidr', '10.10.0.0/24']);
    assert.equal(net.cidr, '10.10.0.0/24');
  });

  let key1 = '';
  await step('1', 'three nodes join with one key and form a full mesh', ['0'], async () => {
    const k = await admin<{ token: string; usesRemaining: number | null }>(['keys', 'create', 'office', '--uses', '3']);
    assert.match(k.token, /^mc1\./);
    key1 = k.token;
    for (const [i, h] of ['n1', 'n2', 'n3'].entries()) {
      const j = await join(h, key1);
      assert.equal(j.network, 'office');
      assert.equal(j.name, h);
      assert.equal(j.interface, 'mesh-office');
      assert.ok(inRange(j.address, '10.10.0'), `${h} got address ${j.address}, outside 10.10.0.0/24`);
      assert.notEqual(j.status, 'pending', `${h} joined a network without manual approval: not pending`);
      assert.equal(count(j.peers), i, `${h} is the ${i + 1}. node: it starts with ${i} peer(s)`);
      office[h] = bare(j.address);
    }
    assert.equal(new Set(Object.values(office)).size, 3, `addresses are unique: ${JSON.stringify(office)}`);
    assert.equal((await new ExecaRunner().run(['ip', 'link', 'show', 'mesh-office'], { allowFail: true })).exitCode, 1, 'no mesh-office in the root namespace');

    // n1 and n2 joined before the others: one checkin each brings them up to date.
    const cs = await Promise.all(['n1', 'n2', 'n3'].map(async (h) => [h, entry(await checkin(h), 'office', `checkin on ${h}`)] as const));
    for (const [h, c] of cs) {
      assert.equal(count(c.peers), 2, `checkin on ${h}: 2 peers, got ${JSON.stringify(c)}`);
      if (h !== 'n3') assert.equal(c.changed, true, `checkin on ${h} learned new peers, so changed: ${JSON.stringify(c)}`);
    }

    await meshPings(['n1', 'n2', 'n3'], office);

    for (const h of ['n1', 'n2', 'n3']) {
      const s = entry(await status(h), 'office', `status on ${h}`);
      assert.equal(s.interface, 'mesh-office');
      assert.equal(bare(s.address), office[h]);
      const others = ['n1', 'n2', 'n3'].filter((o) => o !== h);
      assert.deepEqual(s.peers.map((p) => p.name).sort(), others, `status on ${h} lists the other two: ${JSON.stringify(s.peers)}`);
      for (const p of s.peers) {
        assert.equal(bare(p.address), office[p.name], `status on ${h}: ${p.name}'s address`);
        assert.ok(p.latestHandshake !== null, `status on ${h}: a handshake with ${p.name} after the pings: ${JSON.stringify(p)}`);
        const age = Date.now() - Date.parse(p.latestHandshake);
        assert.ok(age > -5000 && age < 120_000, `status on ${h}: the handshake with ${p.name} is recent (${p.latestHandshake})`);
        assert.ok(p.rxBytes > 0 && p.txBytes > 0, `status on ${h}: traffic with ${p.name}: ${JSON.stringify(p)}`);
      }
    }

    listed = await nodesList('office');
    assert.deepEqual([...listed.keys()].sort(), ['n1', 'n2', 'n3']);
    for (const [h, n] of listed) {
      for (const f of ['id', 'name', 'network', 'address', 'publicKey', 'endpoint', 'listenPort', 'status', 'lastCheckin']) assert.ok(f in n, `nodes list: ${h} has "${f}"`);
      assert.equal(n.network, 'office');
      assert.equal(bare(n.address), office[h], `nodes list: ${h}'s address is the one join printed`);
      assert.notEqual(n.status, 'pending');
      const key = (await lab.run(h, ['wg', 'show', 'mesh-office', 'public-key'])).stdout.trim();
      assert.equal(n.publicKey, key, `nodes list: ${h}'s public key is its interface's`);
      assert.equal(n.endpoint, `${lab.ip(h)}:${n.listenPort}`, `nodes list: ${h}'s endpoint is where the controller saw it`);
    }
  });

  await step('2', 'a 4th node joins with a second key; used-up, revoked, expired keys and a wrong CA pin are refused', ['1'], async () => {
    // Created first so that its second of life has passed by the time it is used.
    const expiring = await admin<{ token: string; expiresAt: string }>(['keys', 'create', 'office', '--expires', '1s']);
    const key2 = await admin<{ token: string }>(['keys', 'create', 'office', '--uses', '1']);
    const j = await join('n4', key2.token);
    assert.equal(j.interface, 'mesh-office');
    assert.ok(inRange(j.address, '10.10.0'), `n4 got ${j.address}`);
    assert.equal(count(j.peers), 3, `n4 starts with the 3 others as peers: ${JSON.stringify(j)}`);
    office.n4 = bare(j.address);
    assert.equal(new Set(Object.values(office)).size, 4, `addresses are unique: ${JSON.stringify(office)}`);

    // A dry run says what the check-in would change, and changes nothing.
    const n4key = (await lab.run('n4', ['wg', 'show', 'mesh-office', 'public-key'])).stdout.trim();
    const dry = entry(await ok<(CheckinOut & { changes: string[] })[]>('n1', ['checkin', '--dry-run', '--config-dir', etc('n1'), '--json']), 'office', 'checkin --dry-run on n1');
    assert.ok(dry.changes.some((c) => c.includes('add peer') && c.includes(n4key.slice(0, 8))), `the dry run would add n4: ${JSON.stringify(dry)}`);
    assert.ok(!(await wgPeers('n1', 'mesh-office')).some((p) => p.publicKey === n4key), 'the dry run did not add n4');

    const cs = await Promise.all(['n1', 'n2', 'n3'].map(async (h) => [h, entry(await checkin(h), 'office', `checkin on ${h}`)] as const));
    for (const [h, c] of cs) {
      assert.equal(c.changed, true, `checkin on ${h} after n4 joined: ${JSON.stringify(c)}`);
      assert.equal(count(c.peers), 3, `checkin on ${h} after n4 joined: ${JSON.stringify(c)}`);
    }
    await meshPings(NODES, office);

    // The refusals, all on n5.
    const dir = etc('n5');
    const attempt = (token: string, name: string) => ['join', '-t', token, '--name', name, '--config-dir', dir, '--daemon', 'off'];
    await refused('n5', attempt(key1, 'n5'), 'KEY_USED_UP');

    const revokedToken = (await admin<{ token: string }>(['keys', 'create', 'office', '--name', 'revoked'])).token;
    await admin(['keys', 'revoke', 'office', 'revoked']);
    await refused('n5', attempt(revokedToken, 'n5'), 'KEY_REVOKED');

    const wait = Date.parse(expiring.expiresAt) + 500 - Date.now();
    if (wait > 0) await sleep(wait);
    const args = [...attempt(expiring.token, 'n5'), '--json'];
    const r = await mc('n5', args);
    assert.equal(r.exitCode, 1, `expected exit 1:\n${explain('n5', args, r)}`);
    let code: unknown;
    try {
      code = (JSON.parse(r.stdout) as { error?: { code?: unknown } }).error?.code;
    } catch {
      assert.fail(`with --json the error is JSON on stdout:\n${explain('n5', args, r)}`);
    }
    assert.equal(code, 'KEY_EXPIRED', `expected {"error":{"code":"KEY_EXPIRED"}}:\n${explain('n5', args, r)}`);

    // A valid, unused key whose token pins some other CA.
    const good = (await admin<{ token: string }>(['keys', 'create', 'office', '--uses', '1'])).token;
    const body = JSON.parse(Buffer.from(good.slice(4), 'base64url').toString('utf8')) as { p: string };
    const otherPin = 'sha256:' + createHash('sha256').update('not this controller CA').digest('hex');
    assert.notEqual(body.p, otherPin);
    const pinned = 'mc1.' + Buffer.from(JSON.stringify({ ...body, p: otherPin }), 'utf8').toString('base64url');
    await refused('n5', attempt(pinned, 'n5'), 'TLS_PIN_MISMATCH');

    assert.equal(await linkExists('n5', 'mesh-office'), false, 'a refused join brings no interface up');
    listed = await nodesList('office');
    assert.deepEqual([...listed.keys()].sort(), NODES, 'the controller has the 4 nodes and nothing from the refused joins');
  });

  await step('3', 'a deleted node disappears from its peers and its next checkin takes its own interface down', ['2'], async () => {
    const n2 = listed.get('n2')!;
    await admin(['nodes', 'delete', 'office', 'n2']);
    const rest = ['n1', 'n3', 'n4'];
    const cs = await Promise.all(rest.map(async (h) => [h, entry(await checkin(h), 'office', `checkin on ${h}`)] as const));
    for (const [h, c] of cs) {
      assert.equal(c.changed, true, `checkin on ${h} after n2 was deleted: ${JSON.stringify(c)}`);
      assert.equal(count(c.peers), 2, `checkin on ${h} after n2 was deleted: ${JSON.stringify(c)}`);
    }
    for (const h of rest) {
      const peers = await wgPeers(h, 'mesh-office');
      assert.ok(!peers.some((p) => p.publicKey === n2.publicKey), `wg show on ${h} still lists n2 (${n2.publicKey}): ${JSON.stringify(peers)}`);
      assert.ok(!peers.some((p) => p.allowedIps.split(',').includes(`${office.n2}/32`)), `wg show on ${h} still routes ${office.n2}: ${JSON.stringify(peers)}`);
      assert.equal(peers.length, 2, `wg show on ${h}: the 2 remaining nodes: ${JSON.stringify(peers)}`);
    }
    const pings = await Promise.all(rest.map((h) => lab.run(h, ['ping', '-c1', '-W1', office.n2!], { allowFail: true })));
    pings.forEach((p, i) => assert.notEqual(p.exitCode, 0, `${rest[i]} can still ping the deleted n2 (${office.n2}):\n${p.stdout}`));

    const c2 = await ok<(CheckinOut & { removed?: string })[]>('n2', ['checkin', '--config-dir', etc('n2'), '--json']);
    assert.match(entry(c2, 'office', 'checkin on n2').removed ?? '', /removed/i, 'the check-in says the node was removed');
    assert.ok(!(await linkExists('n2', 'mesh-office')), 'and took mesh-office down on n2');
    assert.deepEqual([...(await nodesList('office')).keys()].sort(), rest);
  });

  await step('4', 'a node that leaves removes its interface and state and is no longer listed', ['2'], async () => {
    const r = await ok<{ network: string; left: boolean }>('n3', ['leave', '-n', 'office', '--config-dir', etc('n3'), '--json']);
    assert.equal(r.network, 'office');
    assert.equal(r.left, true);
    assert.equal(await linkExists('n3', 'mesh-office'), false, 'mesh-office is gone from n3');
    const left = (await readdir(`${etc('n3')}/networks`).catch(() => [] as string[])).filter((f) => f.startsWith('office.'));
    assert.deepEqual(left, [], `n3 has no office state left in ${etc('n3')}/networks`);
    assert.ok(!(await nodesList('office')).has('n3'), 'nodes list no longer lists n3');
  });

  // lab2 keeps the default listen port, as office does: a node in both must still come up.
  await step('5', 'in a manual-approval network a new node waits, peerless, until approved', ['0'], async () => {
    await admin(['network', 'create', 'lab2', '--cidr', '10.20.0.0/24', '--manual-approval']);
    const key = (await admin<{ token: string }>(['keys', 'create', 'lab2', '--uses', '2'])).token;

    const j1 = await join('n1', key);
    assert.equal(j1.network, 'lab2');
    assert.equal(j1.interface, 'mesh-lab2');
    assert.ok(inRange(j1.address, '10.20.0'), `n1 got ${j1.address} in lab2`);
    assert.equal(j1.status, 'pending', 'every node of a manual-approval network starts pending');
    lab2.n1 = bare(j1.address);
    await admin(['nodes', 'approve', 'lab2', 'n1']);

    const j4 = await join('n4', key);
    assert.equal(j4.interface, 'mesh-lab2');
    assert.ok(inRange(j4.address, '10.20.0'), `n4 got ${j4.address} in lab2`);
    assert.equal(j4.status, 'pending');
    assert.equal(count(j4.peers), 0, `a pending node gets no peers: ${JSON.stringify(j4)}`);
    lab2.n4 = bare(j4.address);

    let nodes = await nodesList('lab2');
    assert.deepEqual([...nodes.keys()].sort(), ['n1', 'n4']);
    assert.equal(nodes.get('n4')!.status, 'pending', 'n4 stays pending');
    assert.notEqual(nodes.get('n1')!.status, 'pending', 'n1 was approved');
    assert.deepEqual(entry(await status('n4'), 'lab2', 'status on n4').peers, [], 'pending n4 has no peers');
    entry(await checkin('n1'), 'lab2', 'checkin on n1');
    const n1Peers = await wgPeers('n1', 'mesh-lab2');
    assert.ok(!n1Peers.some((p) => p.publicKey === nodes.get('n4')!.publicKey), `n1 must not have pending n4 as a peer: ${JSON.stringify(n1Peers)}`);
    assert.equal(n1Peers.length, 0);

    await admin(['nodes', 'approve', 'lab2', 'n4']);
    const cs = await Promise.all(['n1', 'n4'].map(async (h) => [h, entry(await checkin(h), 'lab2', `checkin on ${h}`)] as const));
    for (const [h, c] of cs) {
      assert.equal(c.changed, true, `checkin on ${h} after n4's approval: ${JSON.stringify(c)}`);
      assert.equal(count(c.peers), 1, `checkin on ${h} after n4's approval: ${JSON.stringify(c)}`);
    }
    nodes = await nodesList('lab2');
    assert.notEqual(nodes.get('n4')!.status, 'pending', 'n4 is approved');
    await meshPings(['n1', 'n4'], lab2);
  });

  t.comment(`lab of ${lab.hosts.length} hosts, all steps: ${secs(performance.now() - t0)}`);
});
