// The service adapter against the real tools: systemd-analyze judges the unit we write, and
// the real crontab stores and gives back the line. Missing tools skip these tests locally and
// fail them under CI=true. The cron test runs the real crontab on a private cron spool (a mount
// namespace), never on root's own crontab.
import t from 'tap';
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { FakeRunner } from '../../src/platform/fake-runner.ts';
import { CommandError, ExecaRunner } from '../../src/platform/runner.ts';
import { installCronLine, installSystemdUnit, removeCronLine } from '../../src/platform/service.ts';

const runner = new ExecaRunner({ timeoutMs: 20_000 });
const RUN_JS = resolve(import.meta.dirname, '../../bin/run.js');

/** A skip reason when `argv` cannot run (false when it can); under CI=true the test fails instead. */
async function missing(argv: string[], pkg: string): Promise<string | false> {
  try {
    await runner.run(argv, { allowFail: true });
    return false;
  } catch (e) {
    if (e instanceof CommandError && e.notFound) return `${argv[0]} is not installed (apt-get install -y ${pkg})`;
    throw e;
  }
}
const skipUnlessCi = (reason: string | false) => (process.env.CI === 'true' ? false : reason);

async function tempDir(t: { teardown(fn: () => unknown): void }, name: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), name));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Runs the real `systemd-analyze verify`; returns its exit code and the stderr lines about our unit. */
async function verify(unitPath: string): Promise<{ exitCode: number; about: string[] }> {
  const r = await runner.run(['systemd-analyze', 'verify', unitPath], { allowFail: true });
  // Other units on the machine may draw unrelated warnings; keep the lines that name ours.
  return { exitCode: r.exitCode, about: r.stderr.split('\n').filter((l) => l.includes('meshctl-agent.service')) };
}

const noAnalyze = await missing(['systemd-analyze', '--version'], 'systemd');

t.test('systemd-analyze verify accepts the unit for the dev command (node + bin/run.js)', { skip: skipUnlessCi(noAnalyze) }, async (t) => {
  if (noAnalyze) assert.fail(noAnalyze);
  const dir = await tempDir(t, 'meshctl-unit-');
  const configDir = join(dir, 'config');
  await mkdir(configDir);
  // FakeRunner: write the file for real, but never touch this machine's systemd.
  const { unitPath } = await installSystemdUnit(new FakeRunner(), { command: [process.execPath, RUN_JS], configDir, unitDir: dir });
  assert.deepEqual(await verify(unitPath), { exitCode: 0, about: [] });
});

t.test('systemd-analyze verify accepts quoted paths with spaces, % and $ (and rejects them unquoted)', { skip: skipUnlessCi(noAnalyze) }, async (t) => {
  if (noAnalyze) assert.fail(noAnalyze);
  const dir = await tempDir(t, 'meshctl unit ');
  // ExecStart must name an existing executable: a link with a space in its name to this node.
  const node = join(dir, 'my node');
  await symlink(process.execPath, node);
  const configDir = join(dir, 'config 100% $HOME');
  await mkdir(configDir);
  const { unitPath } = await installSystemdUnit(new FakeRunner(), { command: [node, RUN_JS], configDir, unitDir: dir });
  assert.deepEqual(await verify(unitPath), { exitCode: 0, about: [] });

  // The control: the same unit with the executable unquoted must not pass, or this test proves nothing.
  const text = await readFile(unitPath, 'utf8');
  const bad = text.replace(`ExecStart="${node}"`, `ExecStart=${node}`);
  assert.notEqual(bad, text);
  const badDir = await tempDir(t, 'meshctl-unit-bad-');
  await writeFile(join(badDir, 'meshctl-agent.service'), bad);
  const v = await verify(join(badDir, 'meshctl-agent.service'));
  assert.ok(v.exitCode !== 0 || v.about.length > 0, 'systemd-analyze accepted an unquoted path with a space');
});

const noCrontab = await missing(['crontab', '-l'], 'cron');

t.test('the real crontab: install shows our line beside the others, twice changes nothing, remove leaves the rest', { skip: skipUnlessCi(noCrontab) }, async (t) => {
  if (noCrontab) assert.fail(noCrontab);
  // Never root's real crontab (issue 8 item 2): every crontab call runs in a mount namespace whose
  // cron spool is a temp directory, with the real crontab program.
  const spool = await tempDir(t, 'meshctl-spool-');
  await chmod(spool, 0o1730);
  const cron = new ExecaRunner({ timeoutMs: 20_000, prefix: ['unshare', '-m', '--propagation', 'private', 'sh', '-c', 'mount --bind "$1" /var/spool/cron/crontabs && shift && exec "$@"', 'sh', spool] });

  const others = 'MAILTO=""\n17 3 * * * /bin/true # not meshctl\n';
  await cron.run(['crontab', '-'], { input: others });

  // A recorder in a directory with a space stands in for meshctl, so the line can be run as cron runs it.
  const dir = await tempDir(t, 'meshctl cron ');
  const out = join(dir, 'argv.txt');
  const recorder = join(dir, 'fake meshctl');
  await writeFile(recorder, `#!/bin/sh\n{ echo "PATH=$PATH"; printf '%s\\n' "$@"; } > '${out}'\n`);
  await chmod(recorder, 0o755);
  const configDir = join(dir, "conf 100% it's");

  const first = await installCronLine(cron, { command: [recorder], configDir });
  assert.equal(first.changed, true);
  assert.equal((await cron.run(['crontab', '-l'])).stdout, others + first.line);
  assert.equal((await installCronLine(cron, { command: [recorder], configDir })).changed, false);
  assert.equal((await cron.run(['crontab', '-l'])).stdout, others + first.line);

  // Run the stored line the way cron does: the text after the five time fields, \% turned
  // back into %, through /bin/sh -c. The recorder must see exactly our argv and sbin on PATH.
  const stored = (await cron.run(['crontab', '-l'])).stdout.split('\n').at(-1) ?? '';
  const command = stored.split(' ').slice(5).join(' ');
  assert.ok(!/(^|[^\\])%/.test(command), 'an unescaped % would cut the command short under cron');
  await runner.run(['/bin/sh', '-c', command.replaceAll('\\%', '%')]);
  const seen = (await readFile(out, 'utf8')).split('\n');
  assert.match(seen[0] ?? '', /^PATH=.*\/usr\/sbin/);
  assert.deepEqual(seen.slice(1), ['checkin', '--config-dir', configDir, '--json', '']);

  assert.equal(await removeCronLine(cron, configDir), true);
  assert.equal((await cron.run(['crontab', '-l'])).stdout + '\n', others);
  assert.equal(await removeCronLine(cron, configDir), false);
});
