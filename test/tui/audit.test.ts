// The audit log screen: newest first, filterable.
import t from 'tap';
import assert from 'node:assert/strict';
import { dash, fits, mesh } from '../helpers/dash-fixture.ts';
import { KEY } from '../helpers/ink.ts';

t.test('L opens the audit log, newest first; Esc goes back', async (t) => {
  const s = mesh();
  s.auditLog.push(
    { id: 1, at: '2026-11-26T10:00:00.000Z', actor: 'admin', action: 'network.create', network: 'office' },
    { id: 2, at: '2026-11-26T11:00:00.000Z', actor: 'ci', action: 'key.create', network: 'office', target: 'laptop' },
  );
  const d = dash(s);
  t.teardown(d.unmount);
  await d.waitFor((f) => /office/.test(f));
  await d.press('L');
  const f = await d.waitFor((f) => /key\.create/.test(f), 2000, 'the log');
  assert.ok(f.indexOf('key.create') < f.indexOf('network.create'), 'newest first');
  assert.match(f, /2026-11-26 11:00:00\s+ci\s+key\.create\s+network=office target=laptop/);
  assert.equal(fits(f), null);
  await d.press('/');
  await d.type('admin');
  await d.press(KEY.enter);
  await d.waitFor((f) => !/key\.create/.test(f) && /network\.create/.test(f), 1000, 'filtered');
  await d.press(KEY.esc, KEY.esc);
  await d.waitFor((f) => /NETWORK\s+RANGE/.test(f), 1000, 'back on networks');
});
