// The networks screen and the create-network action (validated as you type, the server's refusal inline).
import t from 'tap';
import assert from 'node:assert/strict';
import { dash, fits, mesh } from '../helpers/dash-fixture.ts';
import { KEY } from '../helpers/ink.ts';

t.test('lists networks with range and node counts by status, at 80x24', async (t) => {
  const s = mesh();
  const d = dash(s);
  t.teardown(d.unmount);
  const f = await d.waitFor((f) => /office/.test(f) && /lab/.test(f), 2000, 'both networks');
  assert.match(f, /office\s+10\.10\.0\.0\/24\s+office\.internal\s+2\s+1\s+0\s+1/);
  assert.match(f, /lab\s+10\.20\.0\.0\/24/);
  assert.match(f, /n new network/, 'footer lists the keys');
  assert.equal(fits(f), null);
});

t.test('/ filters the list', async (t) => {
  const d = dash(mesh());
  t.teardown(d.unmount);
  await d.waitFor((f) => /office/.test(f));
  await d.press('/');
  await d.type('la');
  const f = await d.waitFor((f) => !/office\s+10/.test(f), 1000, 'office filtered out');
  assert.match(f, /lab\s+10\.20/);
  assert.match(f, /filter: la/);
  await d.press(KEY.esc);
  await d.waitFor((f) => /office\s+10/.test(f), 1000, 'filter cleared');
});

t.test('create network: checked as you type, refused by the server inline, then created', async (t) => {
  const s = mesh();
  const d = dash(s);
  t.teardown(d.unmount);
  await d.waitFor((f) => /office/.test(f));
  await d.press('n');
  await d.waitFor((f) => /New network/.test(f));
  await d.type('Bad_Name');
  await d.waitFor((f) => /"Bad_Name" is not a valid name/.test(f), 1000, 'the name error as typed');
  for (let i = 0; i < 8; i++) await d.press(KEY.backspace);
  await d.type('branch');
  await d.waitFor((f) => !/not a valid name/.test(f), 1000, 'the error gone');
  await d.press(KEY.enter);
  await d.type('10.10.0.1/24');
  await d.waitFor((f) => /host bits set/.test(f), 1000, 'the range error as typed');
  for (let i = 0; i < 4; i++) await d.press(KEY.backspace);
  await d.type('0/25'); // valid, but overlaps office: only the server knows
  await d.press(KEY.enter);
  const refused = await d.waitFor((f) => /refused: .*overlaps network "office"/.test(f), 2000, 'the server refusal');
  assert.match(refused, /New network/, 'the form stays open');
  assert.equal(s.networks.length, 2);
  for (let i = 0; i < 13; i++) await d.press(KEY.backspace);
  await d.type('10.30.0.0/24');
  await d.press(KEY.enter);
  const f = await d.waitFor((f) => /Created network branch/.test(f), 2000, 'the created message');
  assert.doesNotMatch(f, /New network/, 'the form closed');
  assert.ok(s.networks.some((n) => n.name === 'branch' && n.cidr === '10.30.0.0/24'));
  s.emit({ type: 'change', change: { kind: 'settings', network: 'branch', version: 1, settings: {} as never } });
  await d.waitFor((f) => /branch\s+10\.30\.0\.0\/24/.test(f), 1000, 'the new network listed');
});

t.test('Esc cancels a form without calling the controller', async (t) => {
  const s = mesh();
  const d = dash(s);
  t.teardown(d.unmount);
  await d.waitFor((f) => /office/.test(f));
  await d.press('n');
  await d.type('x');
  await d.press(KEY.esc);
  await d.waitFor((f) => !/New network/.test(f), 1000, 'the form closed');
  assert.ok(!s.calls.some((c) => c.startsWith('createNetwork')));
});
