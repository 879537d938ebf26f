// The single executable: built once into a temp dir (outside the repo, so nothing can be
// resolved from node_modules), then run with an empty environment as on a host without Node.
import t from 'tap';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pkg from '../../package.json' with { type: 'json' };
import pkgConfig from '../../pkg.config.json' with { type: 'json' };

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** Resolves when `line` matches a line of the child's stderr; rejects if it exits first or on timeout. */
function waitForStderr(child: ChildProcess, match: (line: string) => boolean, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let buf = '';
    let seen = '';
    const timer = setTimeout(() => done(new Error(`timed out after ${ms} ms; stderr:\n${seen}`)), ms);
    const onData = (chunk: Buffer) => {
      buf += chunk.toString('utf8');
      seen += chunk.toString('utf8');
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      if (lines.some(match)) done();
    };
    const onExit = (code: number | null, signal: string | null) => done(new Error(`server exited (${code ?? signal}); stderr:\n${seen}`));
    function done(err?: Error) {
      clearTimeout(timer);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve();
    }
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
  });
}

t.test('the single executable runs self-contained', { timeout: 90_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'meshctl-sea-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));

  const build = spawnSync(process.execPath, [join(repo, 'scripts', 'build.js'), '--out', dir, '--quiet'], { cwd: repo, encoding: 'utf8', timeout: 60_000 });
  assert.equal(build.status, 0, `build failed:\n${build.stdout}${build.stderr}`);
  const bin = join(dir, 'meshctl');
  assert.ok(existsSync(bin), 'build wrote no executable');

  /** Runs the binary as `env -i bin ...args` would (plus `env`), from the temp dir. */
  const run = (args: string[], env: Record<string, string> = {}): SpawnSyncReturns<string> =>
    spawnSync(bin, args, { cwd: dir, env, encoding: 'utf8', timeout: 20_000 });

  await t.test('--help lists the command topics', async () => {
    const r = run(['--help'], { MESHCTL_DEBUG: '1' });
    assert.equal(r.status, 0, r.stderr);
    // the app's code cache (made at build time on the same runtime) is accepted: a rejected one
    // still works, but every start compiles the whole bundle again
    assert.doesNotMatch(r.stderr, /code cache was rejected/);
    for (const cmd of ['network', 'keys', 'nodes', 'dns', 'server']) assert.match(r.stdout, new RegExp(`^\\s+${cmd}\\s`, 'm'), `--help does not list ${cmd}:\n${r.stdout}`);
  });

  await t.test('an unknown command gets the nearest command of either part', async () => {
    const r = run(['sever']);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /unknown command "meshctl sever"\nTry this: Did you mean: meshctl server\?/);
  });

  await t.test('--version prints the package version and the pinned runtime', async () => {
    const r = run(['--version']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^meshctl/${pkg.version.replaceAll('.', '\\.')} linux-x64 node-v${pkgConfig.runtime.version.replaceAll('.', '\\.')}\\n$`));
  });

  await t.test('NODE_OPTIONS cannot inject code', async () => {
    const evil = join(dir, 'evil.cjs');
    const marker = join(dir, 'injected');
    writeFileSync(evil, `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'x');\n`);
    const env = { NODE_OPTIONS: `--require ${evil}` };
    // Control: the same environment does inject into a plain node, so a missing marker means something.
    const control = spawnSync(process.execPath, ['-e', '0'], { env, encoding: 'utf8' });
    assert.equal(control.status, 0, control.stderr);
    assert.ok(existsSync(marker), 'control: plain node did not load the --require file');
    rmSync(marker);

    const r = run(['--version'], env);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^meshctl\//);
    assert.equal(existsSync(marker), false, 'the binary obeyed NODE_OPTIONS=--require');
  });

  await t.test('server from the binary serves `network create` from the binary', async (t) => {
    const dataDir = join(dir, 'data');
    const [apiPort, grpcPort] = [await freePort(), await freePort()];
    const api = `https://127.0.0.1:${apiPort}`;
    const server = spawn(bin, ['server', '--data-dir', dataDir, '--api-addr', `127.0.0.1:${apiPort}`, '--grpc-addr', `127.0.0.1:${grpcPort}`, '--no-relay'], {
      cwd: dir,
      env: {},
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    t.teardown(async () => {
      if (server.exitCode !== null || server.signalCode !== null || server.pid === undefined) return;
      const exited = new Promise((resolve) => server.once('exit', resolve));
      process.kill(server.pid, 'SIGTERM');
      const timer = setTimeout(() => server.pid !== undefined && process.kill(server.pid, 'SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    });
    await waitForStderr(server, (line) => line.includes('"admin API listening"'), 20_000);
    // TLS material and the sql.js database (wasm from the embedded asset) exist.
    for (const f of ['tls/ca.crt', 'tls/server.crt', 'meshctl.db', 'admin.token']) assert.ok(existsSync(join(dataDir, f)), `missing ${f}`);

    const create = run(['network', 'create', 'office', '--cidr', '10.10.0.0/24', '--server', api, '--data-dir', dataDir]);
    assert.equal(create.status, 0, `${create.stdout}${create.stderr}`);
    assert.match(create.stdout, /Created network office \(10\.10\.0\.0\/24[,)]/);

    const list = run(['network', 'list', '--server', api, '--data-dir', dataDir]);
    assert.equal(list.status, 0, `${list.stdout}${list.stderr}`);
    assert.match(list.stdout, /^office\s+10\.10\.0\.0\/24\s/m);

    // The dashboard from the binary (Ink and React carried inside it), in a real terminal: tmux on
    // a private socket, killed at the end (and only it).
    if (spawnSync('tmux', ['-V']).status !== 0) {
      if (process.env.CI === 'true') assert.fail('tmux is missing (apt-get install -y tmux)');
      return t.comment('no tmux: the dashboard check is skipped');
    }
    const sock = join(dir, 'tmux.sock');
    const tmux = (...a: string[]) => spawnSync('tmux', ['-S', sock, ...a], { encoding: 'utf8', timeout: 10_000 });
    t.teardown(() => void tmux('kill-server'));
    tmux('new-session', '-d', '-s', 'd', '-x', '80', '-y', '24', `env -i TERM=xterm ${bin} dashboard --server ${api} --data-dir ${dataDir}; echo "dashboard exited $?"; sleep 60`);
    const screenShows = async (re: RegExp) => {
      const until = Date.now() + 15_000;
      let s = '';
      while (!re.test((s = tmux('capture-pane', '-p', '-t', 'd').stdout ?? '')) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      assert.match(s, re);
    };
    await screenShows(/office\s+10\.10\.0\.0\/24/);
    tmux('send-keys', '-t', 'd', 'q');
    await screenShows(/dashboard exited 0/);
  });
});
