// Issue 8 item 6: `status` shows the real state of each network, not just `up`: waiting for
// approval, removed, controller unreachable (mesh from the cache, since when), in step at
// version V; both from a running agent and without one (one check-in to ask).
import t from 'tap';
import { fileController } from '../helpers/controller.ts';
import { multiHost } from '../helpers/host-sim.ts';
import { join, status, checkIn } from '../../src/agent/node.ts';
import { startAgent } from '../../src/agent/daemon.ts';
import { callAgent } from '../../src/agent/control.ts';
import type { NetworkStatus } from '../../src/agent/node.ts';

const file = fileController(t);
const { admin } = file;
async function node() {
  const dir = await file.tempDir('meshctl-st-');
  return { configDir: dir, runner: multiHost().runner };
}
const one = async (p: Promise<NetworkStatus[]>) => (await p)[0]!;
async function until(what: string, fn: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

t.test('pending, in step, behind, removed, and unreachable (with and without an agent)', async (t) => {
  await admin('POST', '/networks', { name: 'office', cidr: '10.10.0.0/24', manualApproval: true });
  const { token } = await admin<{ token: string }>('POST', '/networks/office/keys', { uses: 10 });
  const a = await node();
  await join(a, { token, name: 'a' });
  let s = await one(status(a));
  t.equal(s.state, 'pending-approval', 'a node waiting for approval says so');
  t.match(s.detail, /meshctl nodes approve office a/);
  t.equal(s.up, true, 'while its interface is up');

  await admin('POST', '/networks/office/nodes/a/approve');
  s = await one(status(a));
  t.equal(s.state, 'behind', 'approved on the controller, not yet applied here');
  await checkIn(a, 'office');
  s = await one(status(a));
  t.equal(s.state, 'in-step');
  t.equal(s.version, (await admin<{ version: number }>('GET', '/networks/office')).version, 'at the controller\'s version');
  t.match(s.detail, new RegExp(`in step with the controller at version ${s.version}`));

  // A running agent answers status from what it knows.
  const b = await node();
  await join(b, { token, name: 'b' });
  await admin('POST', '/networks/office/nodes/b/approve');
  const agent = await startAgent(b, { rescanMs: 60_000 });
  file.cleanup(() => agent.stop());
  await until('b\'s agent is in step', async () => (await callAgent<NetworkStatus[]>(agent.socket, 'Status', ''))?.[0]?.state === 'in-step');

  // Deleted on the controller, no agent on a: status says removed (and does not take it down).
  await admin('DELETE', '/networks/office/nodes/a');
  s = await one(status(a));
  t.equal(s.state, 'removed');
  t.match(s.detail, /no longer knows this node/);

  // The controller goes away: b's agent says since when; a fresh node without an agent says so too.
  const c = await node();
  await join(c, { token, name: 'c' });
  const before = Date.now();
  await file.tc.ctl.close(200);
  await until('b\'s agent notices', async () => (await callAgent<NetworkStatus[]>(agent.socket, 'Status', ''))?.[0]?.state === 'controller-unreachable', 15_000);
  const sb = (await callAgent<NetworkStatus[]>(agent.socket, 'Status', ''))![0]!;
  t.ok(sb.since && Date.parse(sb.since) >= before - 1000, `since when: ${sb.since}`);
  t.match(sb.detail, /the mesh runs from the cached view at version \d+/);
  const sc = await one(status(c));
  t.equal(sc.state, 'controller-unreachable', 'without an agent: one check-in that gets no answer');
  t.equal(sc.up, true);
});
