// The dashboard as a whole: help, tabs, the unreachable controller (and recovery by itself),
// a controller without the event stream, quitting with the terminal restored, the node view.
import t from 'tap';
import '../../src/tui/live-terminal.ts'; // before Ink (via the fixtures), as run.ts has it: live frames under CI=true too
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import React from 'react';
import { dash, fits, mesh } from '../helpers/dash-fixture.ts';
import { KEY, drive, sleep } from '../helpers/ink.ts';
import { AgentApp } from '../../src/tui/agent-app.ts';
import { AdminClient } from '../../src/cli/admin-client.ts';
import { runDashboard } from '../../src/tui/run.ts';
import { serveControl } from '../../src/agent/control.ts';
import { MeshError } from '../../src/core/errors.ts';

t.test('? shows the keys of the screen and the global ones; any key closes', async (t) => {
  const d = dash(mesh());
  t.teardown(d.unmount);
  await d.waitFor((f) => /office/.test(f));
  await d.press('?');
  const f = await d.waitFor((f) => /Keys on this screen/.test(f), 1000, 'the help');
  assert.match(f, /n\s+new network/);
  assert.match(f, /q\s+quit/);
  assert.equal(fits(f), null);
  await d.press('x');
  await d.waitFor((f) => !/Keys on this screen/.test(f), 1000, 'help closed');
});

t.test('Enter opens a network; Tab, digits and → switch tabs; Esc goes back', async (t) => {
  const d = dash(mesh());
  t.teardown(d.unmount);
  await d.waitFor((f) => /office/.test(f));
  await d.press(KEY.down, KEY.enter); // lab is second? the list is in store order: office, lab
  await d.waitFor((f) => /meshctl dashboard · lab/.test(f), 1000, 'lab opened');
  await d.press(KEY.esc, KEY.up, KEY.enter);
  await d.waitFor((f) => /meshctl dashboard · office/.test(f) && /NODE\s+ADDRESS/.test(f), 1000, 'office nodes');
  await d.press(KEY.tab);
  await d.waitFor((f) => /broken pairs|every pair|pair matrix/.test(f), 2000, 'matrix');
  await d.press('4');
  await d.waitFor((f) => /No records/.test(f), 1000, 'dns');
  await d.press('\x1b[C');
  await d.waitFor((f) => /EGRESS RANGES/.test(f), 1000, 'gateways');
  await d.press('3');
  await d.waitFor((f) => /No access keys/.test(f), 1000, 'keys');
  await d.press(KEY.esc);
  await d.waitFor((f) => /NETWORK\s+RANGE/.test(f), 1000, 'networks again');
});

t.test('controller unreachable: says so, keeps retrying, recovers by itself', async (t) => {
  const s = mesh();
  s.down = true;
  const d = dash(s);
  t.teardown(d.unmount);
  let f = await d.waitFor((f) => /controller unreachable, retrying/.test(f), 2000, 'the unreachable banner');
  assert.match(f, /cannot reach the controller/);
  assert.equal(fits(f), null);
  const before = s.calls.length;
  await sleep(350);
  assert.ok(s.calls.length > before, 'it retries');
  s.link({ state: 'down', error: new MeshError('UNREACHABLE', 'cannot reach the controller (ECONNREFUSED)') });
  s.down = false;
  await sleep(200);
  assert.match(d.frame(), /unreachable/, 'still down while the stream is down');
  s.link({ state: 'up' });
  f = await d.waitFor((f) => !/unreachable/.test(f) && /● live/.test(f) && /office\s+10\.10/.test(f), 2000, 'recovered');
});

t.test('a controller without the event stream is polled, not called down', async (t) => {
  const s = mesh();
  const d = dash(s);
  t.teardown(d.unmount);
  await d.waitFor((f) => /office/.test(f));
  s.link({ state: 'down', error: new MeshError('NOT_FOUND', 'no route GET /api/v1/events') });
  await d.waitFor((f) => /○ polling/.test(f), 1000);
  s.networks.pop();
  await d.waitFor((f) => !/lab\s+10\.20/.test(f), 1000, 'a change seen by polling');
  assert.doesNotMatch(d.frame(), /unreachable/);
});

t.test('follows the terminal size: usable at 80x24 and wider', async (t) => {
  for (const size of [{ columns: 80, rows: 24 }, { columns: 132, rows: 40 }]) {
    const d = dash(mesh(), { size, initial: { kind: 'network', network: 'office', tab: 'nodes' } });
    const f = await d.waitFor((f) => /p1/.test(f));
    assert.equal(fits(f, size.columns, size.rows), null);
    if (size.columns > 100) assert.match(f, /ENDPOINT/, 'the endpoint column where there is room');
    else assert.doesNotMatch(f, /ENDPOINT/);
    d.unmount();
  }
});

/** A stand-in terminal: TTY streams Ink can draw on and read keys from. */
function fakeTerminal(columns = 80, rows = 24) {
  const out = Object.assign(new PassThrough(), { isTTY: true, columns, rows });
  const inp = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => inp, ref: () => inp, unref: () => inp });
  let written = '';
  out.on('data', (c: Buffer) => (written += c.toString('utf8')));
  return { out: out as unknown as NodeJS.WriteStream, inp: inp as unknown as NodeJS.ReadStream, written: () => written, type: (s: string) => inp.write(s) };
}

t.test('runDashboard: alternate screen on, q quits, the terminal restored', async (t) => {
  const term = fakeTerminal();
  const client = new AdminClient({ server: 'http://127.0.0.1:1', token: 'not-a-real-token' });
  const done = runDashboard({ client, agentSocket: '/nonexistent/agent.sock', stdout: term.out, stdin: term.inp });
  t.teardown(() => { term.type('q'); return done; });
  const until = Date.now() + 5000;
  while (!/controller unreachable, retrying/.test(stripVTControlCharacters(term.written())) && Date.now() < until) await sleep(20);
  assert.match(stripVTControlCharacters(term.written()), /controller unreachable, retrying/);
  assert.ok(term.written().startsWith('\x1b[?1049h'), 'alternate screen on');
  term.type('q');
  await done;
  assert.ok(term.written().endsWith('\x1b[?1049l'), 'alternate screen off at the end');
});

t.test('no admin credentials and a local agent: the node view from its control socket', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dash-agent-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const sock = join(dir, 'agent.sock');
  const hs = new Date(Date.now() - 7000).toISOString();
  const close = await serveControl(sock, {
    status: async () => [{ network: 'office', interface: 'mesh-office', address: '10.10.0.2', up: true, dns: null, state: 'in-step', version: 4, since: null, detail: 'in step with the controller',
      peers: [{ name: 'n2', address: '10.10.0.3', endpoint: '172.31.0.12:51821', path: 'direct', candidate: null, latestHandshake: hs, rxBytes: 1500, txBytes: 900 }] }],
    resync: async () => ({}),
  });
  t.teardown(close);
  const term = fakeTerminal();
  const client = new AdminClient({ dataDir: join(dir, 'no-data'), env: { HOME: dir, XDG_CONFIG_HOME: dir } });
  const done = runDashboard({ client, agentSocket: sock, stdout: term.out, stdin: term.inp });
  t.teardown(() => { term.type('q'); return done; }); // quits even when an assertion fails first
  const until = Date.now() + 5000;
  while (!/n2\s+10\.10\.0\.3/.test(stripVTControlCharacters(term.written())) && Date.now() < until) await sleep(20);
  const text = stripVTControlCharacters(term.written());
  assert.match(text, /this node/);
  assert.match(text, /office\s+mesh-office 10\.10\.0\.2 up/);
  assert.match(text, /n2\s+10\.10\.0\.3\s+172\.31\.0\.12:51821\s+direct\s+[6-9]s\s+1\.5K\s+900B/);
});

t.test('no admin credentials and no agent: the credentials error, nothing drawn', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dash-none-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const term = fakeTerminal();
  const client = new AdminClient({ dataDir: join(dir, 'no-data'), env: { HOME: dir, XDG_CONFIG_HOME: dir } });
  await assert.rejects(runDashboard({ client, agentSocket: join(dir, 'agent.sock'), stdout: term.out, stdin: term.inp }), (err: MeshError) => err.code === 'UNAUTHENTICATED');
  assert.equal(term.written(), '');
});

t.test('AgentApp: an agent that stops answering says so', async (t) => {
  let fail = false;
  const d = drive(React.createElement(AgentApp, { source: { label: 'agent', status: async () => { if (fail) throw new Error('connect ENOENT'); return []; } }, size: { columns: 80, rows: 24 }, pollMs: 50 }));
  t.teardown(d.unmount);
  await d.waitFor((f) => /Not joined to any network/.test(f));
  fail = true;
  await d.waitFor((f) => /agent unreachable, retrying/.test(f), 1000);
});
