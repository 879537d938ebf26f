// Issue 8 items 1 and 3 on real hosts: `join --interface eth0` is refused before anything
// happens and eth0 stays up (the old rollback deleted it); two networks whose default interface
// names collide get two interfaces, and leaving one keeps the other working.
import t from 'tap';
import { createLab, sweepStale, uniquePrefix, type Lab } from './lab.ts';
import { prereqSkip } from './prereqs.ts';
import { bare, dropMeshctlEnv, meshTools, type JoinOut } from './mesh-helpers.ts';

const STEM = 'ui';
t.setTimeout(200_000);
const skip = await prereqSkip();
dropMeshctlEnv();

t.test('interfaces meshctl did not make are never touched; colliding default names get two interfaces', { skip, timeout: 150_000 }, async (t) => {
  await sweepStale(STEM);
  const lab: Lab = await createLab({ prefix: uniquePrefix(STEM), hosts: ['ctl', 'n1', 'n2'] });
  t.teardown(() => lab.destroy());
  const m = meshTools(lab, `${lab.dir('ctl')}/data`);
  await m.startController();
  const long = 'thisnameisveryveryverylongmorethan15';
  const other = 'thisnameisother';
  await m.admin(['network', 'create', 'office', '--cidr', '10.10.0.0/24']);
  await m.admin(['network', 'create', long, '--cidr', '10.30.0.0/24']);
  await m.admin(['network', 'create', other, '--cidr', '10.31.0.0/24']);
  const key = async (n: string) => (await m.admin<{ token: string }>(['keys', 'create', n, '--uses', '5'])).token;

  // 1. --interface eth0: refused up front; eth0 stays up with its address, n1 still reaches ctl.
  const args = ['join', '-t', await key('office'), '--name', 'n1', '--interface', 'eth0', '--config-dir', m.etc('n1'), '--daemon', 'off', '--json'];
  const r = await m.mc('n1', args);
  t.equal(r.exitCode, 1, m.explain('n1', args, r));
  const err = JSON.parse(r.stdout).error as { code: string; message: string };
  t.equal(err.code, 'ALREADY_EXISTS');
  t.match(err.message, /interface eth0 already exists on this host and meshctl did not create it/);
  const link = JSON.parse((await lab.run('n1', ['ip', '-j', 'addr', 'show', 'dev', 'eth0'])).stdout)[0] as { operstate: string; flags: string[]; addr_info: { local: string }[] };
  t.ok(link.flags.includes('UP'), `eth0 is still up: ${JSON.stringify(link.flags)}`);
  t.ok(link.addr_info.some((a) => a.local === lab.ip('n1')), 'and keeps its address');
  t.equal((await lab.run('n1', ['ping', '-c1', '-W2', lab.ip('ctl')], { allowFail: true })).exitCode, 0, 'n1 still reaches ctl over eth0');
  t.same(await m.admin(['nodes', 'list', 'office']), [], 'nothing was joined');

  // 3. Two long names cut to the same 15 characters: two interfaces, each with its own address.
  const a = await m.join('n1', await key(long));
  const b = await m.ok<JoinOut>('n1', ['join', '-t', await key(other), '--name', 'n1', '--port', '51900', '--config-dir', m.etc('n1'), '--daemon', 'off', '--json']);
  t.equal(a.interface, 'mesh-thisnameis');
  t.not(b.interface, a.interface, 'the second network gets another interface');
  const addrOf = async (iface: string) => (JSON.parse((await lab.run('n1', ['ip', '-4', '-j', 'addr', 'show', 'dev', iface])).stdout)[0].addr_info as { local: string }[]).map((x) => x.local);
  t.same(await addrOf(a.interface), [bare(a.address)]);
  t.same(await addrOf(b.interface), [bare(b.address)]);
  const pubA = (await lab.run('n1', ['wg', 'show', a.interface, 'public-key'])).stdout.trim();
  t.not((await lab.run('n1', ['wg', 'show', b.interface, 'public-key'])).stdout.trim(), pubA, 'each has its own key');

  // n2 joins the first network; leaving the second on n1 keeps the first working.
  const a2 = await m.join('n2', await key(long));
  await m.ok('n1', ['checkin', '-n', long, '--config-dir', m.etc('n1'), '--json']); // no agent runs: n1 learns of n2 here
  await m.pingUntil('n2', 'n1', bare(a.address), 10_000);
  await m.ok('n1', ['leave', '-n', other, '--config-dir', m.etc('n1'), '--json']);
  t.notOk(await m.linkExists('n1', b.interface), 'leave removed the second interface');
  t.equal((await lab.run('n1', ['wg', 'show', a.interface, 'public-key'])).stdout.trim(), pubA, 'the first keeps its key');
  await m.pingUntil('n1', 'n2', bare(a2.address), 10_000);
});
