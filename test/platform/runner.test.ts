import t from 'tap';
import assert from 'node:assert/strict';
import { CommandError, ExecaRunner } from '../../src/platform/runner.ts';
import { FakeRunner } from '../../src/platform/fake-runner.ts';

t.test('ExecaRunner returns stdout, stderr and exit code; feeds input', async () => {
  const r = new ExecaRunner();
  assert.deepEqual(await r.run(['sh', '-c', 'cat; echo err >&2'], { input: 'hello' }), { stdout: 'hello', stderr: 'err', exitCode: 0 });
});

t.test('ExecaRunner throws COMMAND_FAILED carrying argv and stderr, or returns it under allowFail', async () => {
  const r = new ExecaRunner();
  const argv = ['sh', '-c', 'echo boom >&2; exit 3'];
  await assert.rejects(r.run(argv), (e: unknown) => {
    assert.ok(e instanceof CommandError);
    assert.equal(e.code, 'COMMAND_FAILED');
    assert.deepEqual(e.argv, argv);
    assert.equal(e.exitCode, 3);
    assert.equal(e.stderr, 'boom');
    assert.match(e.message, /exited with code 3: boom/);
    assert.ok(e.cause !== undefined);
    return true;
  });
  assert.deepEqual(await r.run(argv, { allowFail: true }), { stdout: '', stderr: 'boom', exitCode: 3 });
});

t.test('a missing program throws notFound even under allowFail; known programs name their Debian package', async () => {
  await assert.rejects(new ExecaRunner().run(['meshctl-no-such-program', 'x'], { allowFail: true }), (e: unknown) => {
    assert.ok(e instanceof CommandError && e.notFound);
    assert.equal(e.message, 'running meshctl-no-such-program: the program is not installed');
    return true;
  });
  assert.equal(new CommandError(['wg', 'show'], { exitCode: null, stderr: '', notFound: true }).hint, 'Install it: apt-get install -y wireguard-tools');
});

t.test('a prefix is prepended to every argv; a missing inner program is still reported as missing', async () => {
  const r = new ExecaRunner({ prefix: ['sh', '-c', 'exec "$@"', 'sh'] });
  assert.equal((await r.run(['echo', 'inside'])).stdout, 'inside');
  await assert.rejects(r.run(['meshctl-no-such-program']), (e: unknown) => e instanceof CommandError && e.notFound && e.argv[0] === 'meshctl-no-such-program');
});

t.test('a command that outlives timeoutMs is killed and reported', async () => {
  const r = new ExecaRunner({ timeoutMs: 100 });
  await assert.rejects(r.run(['sleep', '5']), /timed out after 100 ms/);
});

t.test('FakeRunner records argv and answers from its table; once-rules are used up', async () => {
  const f = new FakeRunner().once('wg show', { stdout: 'first' }).on('wg show', { stdout: 'later' }).on(/^ip /, { exitCode: 2, stderr: 'nope' });
  assert.equal((await f.run(['wg', 'show'])).stdout, 'first');
  assert.equal((await f.run(['wg', 'show'])).stdout, 'later');
  assert.equal((await f.run(['true'])).exitCode, 0);
  await assert.rejects(f.run(['ip', 'link']), (e: unknown) => e instanceof CommandError && e.stderr === 'nope');
  assert.equal((await f.run(['ip', 'link'], { allowFail: true })).exitCode, 2);
  assert.deepEqual(f.lines, ['wg show', 'wg show', 'true', 'ip link', 'ip link']);
});
