// Issue 8 item 4 (and the leave message of item 9) in the harness: when the controller says a
// node is gone (node deleted, network deleted), the agent takes down the interface, its state and
// what hooks set up, and says so; a check-in from cron does the same and then succeeds. After the
// user's own leave, the agent does not tell the user to run leave.
import t from 'tap';
import { existsSync } from 'node:fs';
import { fileController } from '../helpers/controller.ts';
import { multiHost } from '../helpers/host-sim.ts';
import { join, leave, checkIn } from '../../src/agent/node.ts';
import { startAgent } from '../../src/agent/daemon.ts';
import { stateFile } from '../../src/agent/paths.ts';
import { onNetworkTeardown } from '../../src/agent/teardown.ts';

const file = fileController(t);
const { admin } = file;
const tokenFor = async (network: string) => (await admin<{ token: string }>('POST', `/networks/${network}/keys`, { uses: 10 })).token;
async function node() {
  const dir = await file.tempDir('meshctl-td-');
  const host = multiHost();
  const logs: string[] = [];
  return { host, logs, env: { configDir: dir, runner: host.runner, log: (m: string) => void logs.push(m) } };
}
async function until(what: string, fn: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
const hooked: string[] = [];
onNetworkTeardown('test', async (_env, st) => void hooked.push(`${st.network}:${st.interface}`));

t.test('a running agent takes the network down when an admin deletes its node', async (t) => {
  await admin('POST', '/networks', { name: 'office', cidr: '10.10.0.0/24' });
  const n1 = await node();
  await join(n1.env, { token: await tokenFor('office'), name: 'n1' });
  const agent = await startAgent(n1.env, { rescanMs: 200 });
  file.cleanup(() => agent.stop());
  await until('the agent is watching', () => agent.workers.get('office')?.connected === true);
  await admin('DELETE', '/networks/office/nodes/n1');
  await until('the interface is gone', () => !n1.host.links.has('mesh-office'));
  t.notOk(existsSync(stateFile(n1.env.configDir, 'office')), 'the state is gone');
  t.ok(n1.host.links.has('eth0'), 'eth0 is untouched');
  t.ok(n1.logs.some((l) => /^office: the controller says .*removed.*; removed interface mesh-office and this network's local state$/.test(l)), `the log says so:\n${n1.logs.join('\n')}`);
  t.ok(hooked.includes('office:mesh-office'), 'the teardown hooks ran');
  t.notOk(n1.logs.some((l) => /run `?meshctl leave/.test(l)), 'nothing asks the user to clean up by hand');
});

t.test('network delete --force: the agent and a cron-style check-in both take it down; the next check-in has nothing to fail on', async (t) => {
  await admin('POST', '/networks', { name: 'lab', cidr: '10.20.0.0/24' });
  const token = await tokenFor('lab');
  const a = await node();
  const c = await node();
  await join(a.env, { token, name: 'a' });
  await join(c.env, { token, name: 'c' });
  const agent = await startAgent(a.env, { rescanMs: 200 });
  file.cleanup(() => agent.stop());
  await until('the agent is watching', () => agent.workers.get('lab')?.connected === true);
  await admin('DELETE', '/networks/lab?force=true');
  await until('the agent removed mesh-lab', () => !a.host.links.has('mesh-lab'));
  t.ok(a.logs.some((l) => /^lab: the controller says network "lab" was deleted; removed interface mesh-lab/.test(l)), `agent log:\n${a.logs.join('\n')}`);
  // c has no agent: its next check-in (from cron) finds out, removes, and succeeds.
  const r = await checkIn(c.env, 'lab');
  t.match(r.removed, /was removed from network "lab" .*the network was deleted/);
  t.notOk(c.host.links.has('mesh-lab'));
  t.notOk(existsSync(stateFile(c.env.configDir, 'lab')));
  t.ok(hooked.includes('lab:mesh-lab'));
});

t.test('after the user\'s own leave the agent says the node left, not "run meshctl leave"', async (t) => {
  await admin('POST', '/networks', { name: 'home', cidr: '10.40.0.0/24' });
  const n = await node();
  await join(n.env, { token: await tokenFor('home'), name: 'n' });
  const agent = await startAgent(n.env, { rescanMs: 60_000 });
  file.cleanup(() => agent.stop());
  await until('the agent is watching', () => agent.workers.get('home')?.connected === true);
  await leave(n.env, 'home');
  await until('the agent noticed', () => n.logs.some((l) => /home: (left this network|no longer joined)/.test(l))).catch((e) => t.fail(`${e.message}:\n${n.logs.join('\n')}`));
  await new Promise((r) => setTimeout(r, 300));
  t.notOk(n.logs.some((l) => /run `?meshctl leave/.test(l)), `no advice to leave again:\n${n.logs.join('\n')}`);
  t.notOk(n.logs.some((l) => /the controller says/.test(l)), 'nor a teardown of what the user already removed');
});
