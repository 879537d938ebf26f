// Issue 8 item 2: Ctrl-C of a test run leaves nothing behind. A test process that built a lab
// (a real controller on ctl, a process on n1) is sent SIGINT as a terminal sends it, to its
// whole process group; afterwards no process it started and none of its namespaces remain.
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ExecaRunner } from '../../src/platform/runner.ts';
import { LAB_ROOT, sweepStale } from './lab.ts';
import { prereqSkip } from './prereqs.ts';
import { dropMeshctlEnv } from './mesh-helpers.ts';

const FIXTURE = fileURLToPath(new URL('./fixtures/interrupted-lab.ts', import.meta.url));
t.setTimeout(120_000);
dropMeshctlEnv();

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0] !== 'Z';
  } catch {
    return false;
  }
};

t.test('SIGINT to a test process with a lab: every process and namespace it made is gone', { skip: await prereqSkip() }, async (t) => {
  // Whatever happens, nothing of the fixture's stays (it is dead by then, so sweepStale takes it).
  t.teardown(async () => void (await sweepStale('ux')));
  const child = spawn(process.execPath, [FIXTURE], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b));
  child.stderr.on('data', (b: Buffer) => (out += b));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  t.teardown(() => {
    try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ }
  });
  const ready = await new Promise<string[] | null>((resolve) => {
    const timer = setTimeout(() => resolve(null), 60_000);
    const check = () => {
      const m = /READY (\S+) (\d+) (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve([m[1]!, m[2]!, m[3]!]);
      }
    };
    child.stdout.on('data', check);
    void exited.then(() => (clearTimeout(timer), resolve(null)));
  });
  t.ok(ready, `the fixture built its lab within 60 s:\n${out}`);
  if (!ready) return;
  const [prefix, serverPid, sleepPid] = [ready[0]!, Number(ready[1]), Number(ready[2])];
  const namespaces = async () => (await new ExecaRunner().run(['ip', 'netns', 'list'])).stdout.split('\n').map((l) => l.split(' ')[0]!).filter((n) => n.startsWith(`${prefix}-`));
  t.equal((await namespaces()).length, 3, 'hub, ctl and n1 exist before');

  process.kill(-child.pid!, 'SIGINT'); // what Ctrl-C does: the whole process group
  const code = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 30_000))]);
  t.not(code, 'timeout', `the interrupted process exits within 30 s:\n${out}`);
  t.same(await namespaces(), [], 'no namespace of the lab is left');
  t.notOk(existsSync(`${LAB_ROOT}/${prefix}`), 'nor its directory');
  t.notOk(alive(serverPid), 'the meshctl server it started is gone');
  t.notOk(alive(sleepPid), 'and so is the process on n1');
});
