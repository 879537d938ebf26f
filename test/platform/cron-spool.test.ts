// Issue 8 item 2: the crontab adapter against the real `crontab` program, on a private cron
// spool (a mount namespace whose /var/spool/cron/crontabs is a temp directory), never root's
// real crontab. Root's crontab there holds a line without a final newline, which must stay a
// line of its own; the real spool file is compared byte for byte before and after.
import t from 'tap';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExecaRunner } from '../../src/platform/runner.ts';
import { FakeRunner } from '../../src/platform/fake-runner.ts';
import { installCronLine, removeCronLine } from '../../src/platform/service.ts';

const SPOOL = '/var/spool/cron/crontabs';
const OTHERS = '0 0 1 1 * /bin/true'; // someone else's job, no final newline
const command = ['/usr/bin/meshctl'];

async function skipReason(): Promise<string | false> {
  const why = process.getuid?.() !== 0 ? 'needs root (a private mount namespace)' : !existsSync(SPOOL) ? `cron is not installed (no ${SPOOL}; apt-get install -y cron)` : false;
  if (why && process.env.CI === 'true') throw new Error(why);
  return why;
}

t.test('a crontab without a final newline: a fake crontab -l as execa returns it', async (t) => {
  const f = new FakeRunner().on('crontab -l', { stdout: OTHERS }).on('crontab -', {});
  await installCronLine(f, { command, configDir: '/etc/meshctl' });
  const input = f.inputs[f.lines.indexOf('crontab -')]!;
  t.equal(input.split('\n')[0], OTHERS, 'the other job stays a line of its own');
  t.ok(input.endsWith(' # meshctl-checkin /etc/meshctl\n'), `ours is the next line, ending in a newline: ${JSON.stringify(input)}`);
});

t.test('install and remove with the real crontab on a private spool; root\'s real crontab untouched', { skip: await skipReason() }, async (t) => {
  const spool = await mkdtemp(join(tmpdir(), 'meshctl-spool-'));
  t.teardown(() => rm(spool, { recursive: true, force: true }));
  await chmod(spool, 0o1730);
  const realBefore = await readFile(join(SPOOL, 'root')).catch(() => null);
  await writeFile(join(spool, 'root'), OTHERS, { mode: 0o600 });
  // Every command runs in its own mount namespace with the temp dir over the spool.
  const runner = new ExecaRunner({ prefix: ['unshare', '-m', '--propagation', 'private', 'sh', '-c', `mount --bind "$1" ${SPOOL} && shift && exec "$@"`, 'sh', spool] });
  const list = async () => (await runner.run(['crontab', '-l'])).stdout.split('\n').filter((l) => !l.startsWith('# DO NOT EDIT') && !l.startsWith('# (')).join('\n');
  t.equal(await list(), OTHERS, 'the private spool is what crontab -l reads');

  const r = await installCronLine(runner, { command, configDir: '/etc/meshctl' });
  t.equal(r.changed, true);
  t.same((await list()).split('\n'), [OTHERS, r.line], 'two lines, not glued together');
  t.equal((await installCronLine(runner, { command, configDir: '/etc/meshctl' })).changed, false, 'installing again changes nothing');
  t.equal(await removeCronLine(runner, '/etc/meshctl'), true);
  t.equal(await list(), OTHERS, 'remove leaves the other job as it was');
  t.same(await readFile(join(SPOOL, 'root')).catch(() => null), realBefore, 'root\'s real crontab is byte for byte as before');
});
