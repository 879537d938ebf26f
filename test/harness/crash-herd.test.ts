// Agents coming back to a controller that crashed: it moves every network's version past
// anything it may have served, so no agent's version means anything to it. An agent whose view
// is still the current one shows it by the view's digest and is told so (no whole view sent);
// one whose view is not current is sent its view. Real agent daemons (WireGuard simulated),
// a real controller in-process, a crash left as a dead owner's lock.
import t from 'tap';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join as pathJoin } from 'node:path';
import { startTestController } from '../helpers/controller.ts';
import { admin, until } from '../helpers/agents.ts';
import { simHost } from '../platform/wg-sim.ts';
import { join } from '../../src/agent/node.ts';
import { startAgent, type RunningAgent } from '../../src/agent/daemon.ts';
import { loadState } from '../../src/agent/state.ts';
import { catchUps } from '../../src/controller/metrics.ts';

const cleanups: (() => Promise<void>)[] = [];
t.teardown(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

const counts = async () => {
  const m = await catchUps.get();
  const of = (how: string) => m.values.filter((v) => v.labels.how === how).reduce((s, v) => s + v.value, 0);
  return { view: of('view'), inStep: of('in-step'), deltas: of('deltas') };
};

t.test('after a crash, agents whose views are current get no whole view; a stale one does', async () => {
  const dataDir = await mkdtemp(pathJoin(tmpdir(), 'meshctl-crash-'));
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
  let tc = await startTestController({ grpc: true, dataDir });
  const grpcPort = tc.ctl.grpcPort!;
  let up = true;
  cleanups.push(async () => {
    if (up) await tc.ctl.close();
  });
  await admin(tc, 'POST', '/networks', { name: 'office', cidr: '10.10.0.0/24' });
  const { token } = await admin<{ token: string }>(tc, 'POST', '/networks/office/keys', { uses: 'unlimited' });
  const nodes: { name: string; dir: string; sim: ReturnType<typeof simHost>; agent?: RunningAgent }[] = [];
  const run = async (n: (typeof nodes)[number]) => {
    n.agent = await startAgent({ configDir: n.dir, runner: n.sim.runner }, { rescanMs: 200, checkInMs: 500, reconcileMs: 1000 });
    cleanups.push(() => n.agent!.stop());
  };
  for (const name of ['c1', 'c2', 'c3', 'c4']) {
    const dir = await mkdtemp(pathJoin(tmpdir(), `meshctl-${name}-`));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const n = { name, dir, sim: simHost({ kernel: true }) };
    await join({ configDir: dir, runner: n.sim.runner }, { token, name });
    nodes.push(n);
  }
  for (const n of nodes) await run(n);
  const version = async () => (await admin<{ version: number }>(tc, 'GET', '/networks/office')).version;
  const held = async (n: (typeof nodes)[number]) => (await loadState(n.dir, 'office')).view?.version;
  const v0 = await version();
  await until('every agent holds the network\'s version', async () => (await Promise.all(nodes.map(held))).every((v) => v === v0), 15_000);

  // c4 stops; a change it does not see (c2's keepalive... the network's) makes its view stale
  const c4 = nodes[3]!;
  await c4.agent!.stop();
  await admin(tc, 'PATCH', '/networks/office', { keepalive: 17 });
  const v1 = await version();
  await until('the running agents hold the change', async () => (await Promise.all(nodes.slice(0, 3).map(held))).every((v) => v === v1), 15_000);

  // the controller "crashes": it closes, and its lock is left as a dead owner's
  await tc.ctl.close();
  up = false;
  await writeFile(pathJoin(dataDir, 'server.lock'), `${process.pid} 0\n`);
  const before = await counts();
  tc = await startTestController({ grpc: true, dataDir, grpcPort });
  up = true;
  const v2 = await version();
  assert.ok(v2 > v1 + 1000, `versions moved past what was served (${v1} -> ${v2})`);
  await until('the running agents take the new version', async () => (await Promise.all(nodes.slice(0, 3).map(held))).every((v) => v === v2), 15_000);
  const after = await counts();
  assert.equal(after.view - before.view, 0, 'a whole view was sent to an agent whose view was current');
  assert.ok(after.inStep - before.inStep >= 3, `in step by digest: ${after.inStep - before.inStep}`);
  for (const n of nodes.slice(0, 3)) assert.equal(n.sim.state.peers.size, 3, `${n.name} kept its peers`);

  // c4 comes back with the view from before the keepalive change: it is sent its view
  await run(c4);
  await until('c4 takes the current view', async () => (await held(c4)) === v2, 15_000);
  assert.equal((await loadState(c4.dir, 'office')).view!.network.keepalive, 17);
  assert.ok((await counts()).view - after.view >= 1, 'c4 got a whole view');
  // and changes flow as before
  await admin(tc, 'PATCH', '/networks/office', { keepalive: 19 });
  const v3 = await version();
  await until('every agent holds the next change', async () => (await Promise.all(nodes.map(held))).every((v) => v === v3), 15_000);
});
