// src/agent/control.ts: the agent's control API on a root-only Unix socket.
import t from 'tap';
import { mkdtemp, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { callAgent, serveControl, socketPath, viaAgent } from '../../src/agent/control.ts';
import { MeshError } from '../../src/core/errors.ts';

/** A short temp dir (t.testdir()'s paths are too long for a Unix socket's 108 bytes). */
async function tempDir(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mc-ctl-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

t.test('socketPath: the env override, /run/meshctl for the default config dir, else beside the config', async (t) => {
  t.equal(socketPath('/etc/meshctl', {}), '/run/meshctl/agent.sock');
  t.equal(socketPath('/srv/mc', {}), '/srv/mc/agent.sock');
  t.equal(socketPath('/srv/mc', { MESHCTL_AGENT_SOCKET: '/tmp/x.sock' }), '/tmp/x.sock');
  t.equal(socketPath('/etc/meshctl', { MESHCTL_AGENT_SOCKET: '/tmp/x.sock' }), '/tmp/x.sock');
});

t.test('status and resync reach the handlers over a socket born 0600 in a 0700 directory', async (t) => {
  const path = join(await tempDir(t), 'run', 'agent.sock');
  const seen: string[] = [];
  const stop = await serveControl(path, {
    status: async (n) => (seen.push(`status ${n}`), { network: n, peers: 2 }),
    resync: async (n) => (seen.push(`resync ${n}`), { changed: true }),
  });
  let stopped = false;
  t.teardown(() => (stopped ? undefined : stop()));
  t.equal((await stat(path)).mode & 0o777, 0o600, 'socket mode');
  t.equal((await stat(join(path, '..'))).mode & 0o777, 0o700, 'directory mode');
  t.same(await callAgent(path, 'Status', 'office'), { network: 'office', peers: 2 });
  t.same(await callAgent(path, 'Resync', ''), { changed: true });
  t.same(seen, ['status office', 'resync ']);
  await stop();
  stopped = true;
  t.notOk(existsSync(path), 'closing removes the socket');
});

t.test("a handler's MeshError arrives with its code and hint; anything else as INTERNAL without details", async (t) => {
  const path = join(await tempDir(t), 'agent.sock');
  const stop = await serveControl(path, {
    status: async () => { throw new MeshError('NOT_JOINED', 'this node has not joined network "x"', { hint: 'Join first' }); },
    resync: async () => { throw new Error('secret internals'); },
  });
  t.teardown(stop);
  await t.rejects(callAgent(path, 'Status', 'x'), { code: 'NOT_JOINED', message: 'this node has not joined network "x"', hint: 'Join first' });
  const e = await callAgent(path, 'Resync', 'x').catch((err: unknown) => err);
  t.type(e, MeshError);
  t.equal((e as MeshError).code, 'INTERNAL');
  t.notMatch((e as MeshError).message, /secret internals/);
});

t.test('no socket, or a stale one nobody listens on, means no agent: undefined', async (t) => {
  const dir = await tempDir(t);
  t.equal(await callAgent(join(dir, 'none.sock'), 'Status', 'x'), undefined);
  // a socket file left behind by an agent that died
  const stale = join(dir, 'stale.sock');
  const stop = await serveControl(stale, { status: async () => 1, resync: async () => 1 });
  await rename(stale, join(dir, 'moved.sock'));
  await stop();
  await rename(join(dir, 'moved.sock'), stale);
  t.ok(existsSync(stale), 'the stale socket file is there');
  t.equal(await callAgent(stale, 'Status', 'x'), undefined);
});

t.test('viaAgent asks the running agent, else does it here', async (t) => {
  const configDir = await tempDir(t);
  const saved = process.env.MESHCTL_AGENT_SOCKET;
  delete process.env.MESHCTL_AGENT_SOCKET;
  t.teardown(() => {
    if (saved !== undefined) process.env.MESHCTL_AGENT_SOCKET = saved;
  });
  let direct = 0;
  const here = async () => (direct++, 'here');
  t.equal(await viaAgent(configDir, 'Status', undefined, here), 'here');
  t.equal(direct, 1);
  const stop = await serveControl(join(configDir, 'agent.sock'), { status: async (n) => `agent:${n}`, resync: async () => 'r' });
  t.teardown(stop);
  t.equal(await viaAgent(configDir, 'Status', 'office', here), 'agent:office');
  t.equal(await viaAgent(configDir, 'Status', undefined, here), 'agent:', 'no network: the empty name, the agent decides');
  t.equal(direct, 1, 'not done here while an agent answers');
});
