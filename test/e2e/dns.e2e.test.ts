// Issue 12 acceptance, end to end: private DNS on real lab hosts with wireguard-go between them and
// `meshctl agent` running as a daemon on each node. dig against a node's responder (UDP and TCP,
// from itself and from another node); a custom record reaches every node's responder within 1 s,
// a deleted node's name is NXDOMAIN within 1 s, names outside the domain are REFUSED; with the
// controller killed every node still answers for every name. Cron mode: after `meshctl checkin`
// the host's hosts file (bind-mounted over /etc/hosts per host) has the block and `getent hosts`
// resolves; leave removes only the block. Also `dns export` and the controller's hosts file.
import t from 'tap';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { createLab, sweepStale, uniquePrefix, type Lab, type LabProcess } from './lab.ts';
import { prereqSkip } from './prereqs.ts';
import { bare, dropMeshctlEnv, meshTools, secs, sleep, type NetStatus, tail } from './mesh-helpers.ts';

const STEM = 'dn';
const NET = 'office';
const DOMAIN = 'office.internal';
/** The limit of issue 12 for a change to reach every node's responder. */
const PROPAGATION_MS = 1000;
const OTHER_LINES = '127.0.0.1\tlocalhost\n10.99.0.5 nas.example nas\n# a comment the admin wrote\n';
t.setTimeout(480_000);
dropMeshctlEnv();


t.test('issue 12: every node answers for the mesh names, also with the controller down; cron mode keeps a hosts block', { skip: await prereqSkip() }, async (t) => {
  await sweepStale(STEM);
  const lab: Lab = await createLab({ prefix: uniquePrefix(STEM), hosts: ['ctl', 'n1', 'n2', 'n3', 'n4'] });
  t.teardown(() => lab.destroy());
  const D = `${lab.dir('ctl')}/data`;
  const m = meshTools(lab, D);
  const hostsOf = (h: string) => `${lab.dir(h)}/hosts`;
  const agents: Record<string, LabProcess> = {};
  let server: LabProcess | undefined;
  const addr: Record<string, string> = {};
  const diag = () => {
    if (server) t.comment(`controller:\n${tail(server.output())}`);
    for (const [h, a] of Object.entries(agents)) t.comment(`${h}'s agent:\n${tail(a.output())}`);
  };

  /** dig on `from` against `server`; returns the answer lines (+short) or the status. */
  const dig = async (from: string, serverAddr: string, name: string, extra: string[] = []) => {
    const r = await lab.run(from, ['dig', `@${serverAddr}`, name, '+time=1', '+tries=1', ...extra], { allowFail: true });
    const status = /status: (\w+)/.exec(r.stdout)?.[1] ?? `no answer (exit ${r.exitCode})`;
    const answers = [...r.stdout.matchAll(/^\S+\s+\d+\s+IN\s+(A|CNAME)\s+(\S+)$/gm)].map((x) => x[2]!);
    return { status, answers, raw: r.stdout };
  };
  const short = async (from: string, serverAddr: string, name: string, extra: string[] = []) =>
    (await lab.run(from, ['dig', `@${serverAddr}`, name, '+short', '+time=1', '+tries=1', ...extra], { allowFail: true })).stdout.trim();
  /**
   * Watchers started before a change: each polls dig on its host against that host's own responder
   * (in the host's namespace, every 20 ms, no per-probe process start from here) until the answer
   * matches `grepRe`, then prints the wall-clock ms. Resolves with the ms after `since()` (a
   * Date.now() taken when the change command returned) at which every host saw it.
   */
  const watchAll = (hosts: string[], name: string, grepRe: string) => {
    const ps = hosts.map((h) => lab.spawn(h, ['sh', '-c',
      `until dig @${addr[h]} ${name} +time=1 +tries=1 | grep -Eq '${grepRe}'; do sleep 0.02; done; date +%s%3N`]));
    return async (since: () => number, ms: number) => Promise.all(ps.map(async (p, i) => {
      const timer = setTimeout(() => void p.stop(100), ms);
      const code = await p.exited;
      clearTimeout(timer);
      assert.equal(code, 0, `${hosts[i]}: ${name} did not match /${grepRe}/ within ${ms} ms`);
      return Number(p.output().trim().split('\n').at(-1)) - since();
    }));
  };
  /** Polls until `check` holds for dig on every host in `hosts` against its own responder; resolves with the ms each took. */
  const untilEvery = async (hosts: string[], name: string, check: (d: Awaited<ReturnType<typeof dig>>) => boolean, ms: number, since: number) =>
    Promise.all(hosts.map(async (h) => {
      const end = since + ms;
      for (;;) {
        const d = await dig(h, addr[h]!, name);
        if (check(d)) return performance.now() - since;
        assert.ok(performance.now() < end, `${h}: ${name} not as expected within ${ms} ms; last answer:\n${d.raw}`);
        await sleep(20);
      }
    }));

  try {
    server = await m.startController(60_000); // generous: a loaded machine starts node slowly
    const net = await m.admin<{ domain: string; dns: boolean }>(['network', 'create', NET, '--cidr', '10.10.0.0/24']);
    t.equal(net.domain, DOMAIN, 'the domain defaults to <network>.internal');
    t.equal(net.dns, true);
    const { token } = await m.admin<{ token: string }>(['keys', 'create', NET, '--uses', '5']);
    for (const h of ['n1', 'n2', 'n3']) {
      await writeFile(hostsOf(h), OTHER_LINES);
      addr[h] = bare((await m.join(h, token)).address);
    }
    for (const h of ['n1', 'n2', 'n3']) {
      agents[h] = m.spawnAgent(h, ['--host-dns', 'hosts', '--hosts-file', hostsOf(h)]);
    }
    try {
      await m.meshPings(['n1', 'n2', 'n3'], addr, 20_000);
    } catch (err) {
      for (const h of ['n1', 'n2', 'n3']) t.comment(`${h}: wg show:\n${(await lab.run(h, ['wg', 'show', 'mesh-office', 'dump'], { allowFail: true })).stdout}\n${(await lab.run(h, ['ip', 'addr'], { allowFail: true })).stdout}`);
      throw err;
    }

    // 1. dig from n1 and from n3 against n1's responder, UDP and TCP
    const up = performance.now();
    for (;;) {
      if ((await short('n1', addr.n1!, `n2.${DOMAIN}`)) === addr.n2) break;
      assert.ok(performance.now() - up < 15_000, `n1's responder does not answer:\n${tail(agents.n1!.output())}`);
      await sleep(100);
    }
    t.equal(await short('n1', addr.n1!, `n2.${DOMAIN}`), addr.n2, 'n1: dig @n1 n2.office.internal +short');
    t.equal(await short('n3', addr.n1!, `n2.${DOMAIN}`), addr.n2, 'n3 asks n1\'s responder over the mesh');
    t.equal(await short('n3', addr.n1!, `n3.${DOMAIN}`, ['+tcp']), addr.n3, 'dig +tcp');
    t.equal(await short('n2', addr.n2!, `N1.Office.Internal`), addr.n1, 'names are case-insensitive');
    const aa = await dig('n2', addr.n1!, `n2.${DOMAIN}`);
    t.match(aa.raw, /flags: qr aa/, 'authoritative');
    t.equal((await dig('n1', addr.n1!, 'example.com')).status, 'REFUSED', 'example.com is REFUSED (not an open resolver)');
    t.equal((await dig('n1', addr.n1!, 'example.com', ['+tcp'])).status, 'REFUSED');
    t.equal((await dig('n1', addr.n1!, `nobody.${DOMAIN}`)).status, 'NXDOMAIN');

    // 2. a custom record (and a CNAME) reach every node's responder within 1 s
    let w = watchAll(['n1', 'n2', 'n3'], `printer.${DOMAIN}`, 'IN\\s+A\\s+10\\.10\\.0\\.200');
    await sleep(300); // the watchers are polling
    let t0 = Date.now();
    await m.admin(['dns', 'add', NET, 'printer', '10.10.0.200']);
    let returned = Date.now();
    let times = await w(() => returned, 10_000);
    t.comment(`dns add returned -> printer answers on every node: ${secs(Math.max(...times))} (from the command's start: ${secs(Math.max(...times) + returned - t0)}; each: ${times.map((x) => x.toFixed(0)).join(', ')} ms)`);
    t.ok(Math.max(...times) <= PROPAGATION_MS, `a custom record answers on every node within ${PROPAGATION_MS} ms of dns add returning (took ${Math.max(...times).toFixed(0)} ms)`);
    await m.admin(['dns', 'add', NET, 'files', `n2.${DOMAIN}`]);
    await untilEvery(['n1', 'n3'], `files.${DOMAIN}`, (d) => d.answers.join(' ') === `n2.${DOMAIN}. ${addr.n2}`, 5000, performance.now());
    t.pass('a CNAME to another name of the domain answers with the CNAME and the address');

    // 3. the controller's CoreDNS file and dns export
    const file = `${D}/dns/${DOMAIN}.hosts`;
    // The controller rewrites it at most once a second (a burst of changes makes one write).
    let hostsFile = '';
    for (const end = Date.now() + 5000; Date.now() < end; await sleep(100)) {
      hostsFile = await readFile(file, 'utf8').catch(() => '');
      if (hostsFile.includes(`files.${DOMAIN}`)) break;
    }
    for (const h of ['n1', 'n2', 'n3']) t.match(hostsFile, `${addr[h]}\t${h}.${DOMAIN}\n`, `${file} lists ${h}`);
    t.match(hostsFile, `10.10.0.200\tprinter.${DOMAIN}\n`);
    const ex = await m.admin<{ hosts: string; corefile: string; path: string }>(['dns', 'export', NET]);
    t.equal(ex.hosts, hostsFile, 'dns export prints the same file');
    t.match(ex.corefile, `${DOMAIN}:53 {`);
    t.match(ex.corefile, `hosts ${file}`);

    // 4. status says which integration is in effect and how to query by hand
    const st = (await m.status('n1')).find((s) => s.network === NET) as NetStatus & { dns: { mode: string; responder: string; query: string } };
    t.same({ mode: st.dns.mode, responder: st.dns.responder }, { mode: 'hosts', responder: `${addr.n1}:53` });
    t.match(st.dns.query, `dig @${addr.n1} n1.${DOMAIN}`);
    t.match(await readFile(hostsOf('n1'), 'utf8'), `${addr.n2}\tn2.${DOMAIN}`, 'the daemon keeps the hosts block too');

    // 5. cron mode on n4: checkin writes the block; getent resolves through the host's /etc/hosts; leave removes only it
    await writeFile(hostsOf('n4'), OTHER_LINES);
    addr.n4 = bare((await m.join('n4', token)).address);
    const ci = await m.mc('n4', ['checkin', '--config-dir', m.etc('n4'), '--hosts-file', hostsOf('n4'), '--json']);
    t.equal(ci.exitCode, 0, m.explain('n4', ['checkin'], ci));
    const block = await readFile(hostsOf('n4'), 'utf8');
    t.ok(block.startsWith(OTHER_LINES), 'the other lines stay first, untouched');
    for (const h of ['n1', 'n2', 'n3', 'n4']) t.match(block, `${addr[h]}\t${h}.${DOMAIN}\n`, `the block has ${h}`);
    const getent = async (name: string) =>
      lab.run('n4', ['sh', '-c', 'mount --bind "$0" /etc/hosts && exec getent hosts "$1"', hostsOf('n4'), name], { allowFail: true });
    const g = await getent(`n2.${DOMAIN}`);
    t.equal(g.exitCode, 0, `getent hosts n2.${DOMAIN} on n4: ${g.stdout}${g.stderr}`);
    t.match(g.stdout, new RegExp(`^${addr.n2!.replace(/\./g, '\\.')}\\s+n2\\.office\\.internal`));
    const lv = await m.mc('n4', ['leave', '-n', NET, '--config-dir', m.etc('n4'), '--hosts-file', hostsOf('n4'), '--json']);
    t.equal(lv.exitCode, 0, m.explain('n4', ['leave'], lv));
    t.equal(await readFile(hostsOf('n4'), 'utf8'), OTHER_LINES, 'leave removes the block and nothing else');
    t.not((await getent(`n2.${DOMAIN}`)).exitCode, 0, 'and the name no longer resolves there');

    // 6. a deleted node's name is NXDOMAIN on every other node within 1 s
    w = watchAll(['n1', 'n2'], `n3.${DOMAIN}`, 'status: NXDOMAIN');
    await sleep(300);
    t0 = Date.now();
    await m.admin(['nodes', 'delete', NET, 'n3']);
    returned = Date.now();
    times = await w(() => returned, 10_000);
    t.comment(`nodes delete returned -> n3 NXDOMAIN everywhere: ${secs(Math.max(...times))} (from the command's start: ${secs(Math.max(...times) + returned - t0)}; each: ${times.map((x) => x.toFixed(0)).join(', ')} ms)`);
    t.ok(Math.max(...times) <= PROPAGATION_MS, `a deleted node is NXDOMAIN within ${PROPAGATION_MS} ms (took ${Math.max(...times).toFixed(0)} ms)`);
    t.notMatch(await readFile(hostsOf('n1'), 'utf8'), `n3.${DOMAIN}`, 'and gone from the hosts blocks');

    // 7. the controller killed: every node still answers for every name
    server.child.kill('SIGKILL');
    await new Promise((r) => server!.child.once('exit', r));
    await sleep(500);
    for (const from of ['n1', 'n2']) {
      for (const to of ['n1', 'n2']) {
        t.equal(await short(from, addr[from]!, `${to}.${DOMAIN}`), addr[to], `controller down: ${from} answers for ${to}`);
        t.equal(await short(from, addr[to]!, `${to}.${DOMAIN}`, ['+tcp']), addr[to], `controller down: ${to}'s responder answers ${from} over TCP`);
      }
      t.equal(await short(from, addr[from]!, `printer.${DOMAIN}`), '10.10.0.200');
      t.equal((await dig(from, addr[from]!, `n3.${DOMAIN}`)).status, 'NXDOMAIN');
    }
    for (const [h, a] of Object.entries(agents)) if (h !== 'n3') t.equal(a.child.exitCode, null, `${h}'s agent is still running`);
  } catch (err) {
    diag();
    throw err;
  }
});
