// `meshctl dashboard` outside a terminal: refused with a hint (exit 2), and Ink/React are never
// loaded for it or for any other command (they load only when the dashboard starts).
import t from 'tap';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN } from '../helpers/cli.ts';

t.test('without a TTY: refused with a hint, Ink not loaded', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dash-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const log = join(dir, 'loaded');
  const hook = join(dir, 'hook.mjs');
  // Records every package specifier the process resolves.
  writeFileSync(hook, `import { registerHooks } from 'node:module'; import { appendFileSync } from 'node:fs';
registerHooks({ resolve(spec, ctx, next) { if (!spec.startsWith('.') && !spec.startsWith('node:') && !spec.startsWith('file:')) appendFileSync(${JSON.stringify(log)}, spec + '\\n'); return next(spec, ctx); } });`);
  const run = (args: string[]) => spawnSync(process.execPath, ['--import', hook, BIN, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MESHCTL_SERVER: 'http://127.0.0.1:1', MESHCTL_TOKEN: 'x' } });
  const r = run(['dashboard']);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /^Error \(USAGE\): meshctl dashboard needs an interactive terminal/);
  assert.match(r.stderr, /Try this: .*meshctl nodes list NETWORK/);
  const h = run(['dashboard', '--help']);
  assert.equal(h.status, 0);
  assert.match(h.stdout, /live terminal dashboard/);
  const loaded = existsSync(log) ? readFileSync(log, 'utf8').split('\n') : [];
  assert.ok(loaded.some((s) => s.startsWith('@oclif/core')), 'the hook sees package imports');
  for (const pkg of ['ink', 'react', '@inkjs/ui', 'ink-text-input']) assert.ok(!loaded.includes(pkg), `${pkg} was loaded`);
});
