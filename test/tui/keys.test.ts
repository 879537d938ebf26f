// Access keys: listed without secrets; a new key's token shown once, with a QR code that decodes
// to it; revoke only after y.
import t from 'tap';
import assert from 'node:assert/strict';
import { stripVTControlCharacters } from 'node:util';
import { dash, fits, mesh } from '../helpers/dash-fixture.ts';
import { KEY } from '../helpers/ink.ts';
import { decodeTerminalQr } from '../helpers/qr.ts';

const keysTab = { initial: { kind: 'network' as const, network: 'office', tab: 'keys' as const } };

t.test('create a key: the token once, with a QR code of it; then gone for good', async (t) => {
  const s = mesh();
  const d = dash(s, { ...keysTab, size: { columns: 120, rows: 60 } });
  t.teardown(d.unmount);
  await d.waitFor((f) => /No access keys/.test(f));
  await d.press('n');
  await d.waitFor((f) => /New access key for office/.test(f));
  await d.type('laptop');
  await d.press(KEY.enter);
  await d.type('x');
  await d.waitFor((f) => /a number of uses/.test(f), 1000, 'the uses error');
  await d.press(KEY.backspace, KEY.backspace);
  await d.type('3');
  await d.press(KEY.enter);
  await d.type('24h');
  await d.press(KEY.enter);
  const token = `mc1.SECRET-TOKEN-laptop-${'0123456789abcdef'.repeat(12)}`;
  await d.waitFor((f) => f.replace(/\s+/g, '').includes(token) && /▀|▄|█/.test(f), 3000, 'the token and its QR');
  assert.ok(s.calls.includes('createKey office {"name":"laptop","uses":3,"expires":"24h"}'), s.calls.join('\n'));
  const qrText = d.raw().split('\n').filter((l) => /[▀▄█]/.test(stripVTControlCharacters(l))).join('\n');
  assert.equal(decodeTerminalQr(qrText), token, 'the QR code decodes to the token');
  assert.match(d.frame(), /Shown only now/);
  await d.press(KEY.enter);
  const f = await d.waitFor((f) => /laptop\s+3\s/.test(f), 2000, 'the key listed');
  assert.ok(!f.includes('SECRET'), 'the token is not shown again');
  s.emit({ type: 'reset' });
  await d.press('?', KEY.esc);
  await d.waitFor((f) => /laptop/.test(f));
  assert.ok(!d.frames.slice(-5).some((x) => x.includes('SECRET')), 'nor after a reload');
});

t.test('at 80x24 the token still shows, with a note where the QR code did not fit', async (t) => {
  const s = mesh();
  const d = dash(s, keysTab);
  t.teardown(d.unmount);
  await d.waitFor((f) => /No access keys/.test(f));
  await d.press('n', KEY.enter, KEY.enter, KEY.enter);
  const f = await d.waitFor((f) => /SECRET-TOKEN/.test(f) && /QR code needs/.test(f), 3000, 'the token');
  assert.equal(fits(f), null);
});

t.test('keys list: uses left, expiry, state, never a secret; revoke after y', async (t) => {
  const s = mesh();
  s.keys.push({ name: 'ci', network: 'office', usesRemaining: null, expiresAt: '2030-01-02T03:04:05.000Z', revoked: false, createdAt: '2026-11-01T00:00:00.000Z' });
  const d = dash(s, keysTab);
  t.teardown(d.unmount);
  let f = await d.waitFor((f) => /ci\s+unlimited\s+2030-01-02 03:04\s+active/.test(f), 2000, 'the key');
  assert.equal(fits(f), null);
  await d.press('d');
  await d.waitFor((f) => /Revoke key ci\?/.test(f));
  await d.press('y');
  await d.waitFor((f) => /Revoked key ci/.test(f), 1000);
  s.emit({ type: 'reset' });
  f = await d.waitFor((f) => /ci\s+unlimited.*revoked/.test(f), 1000, 'revoked');
  assert.ok(s.calls.includes('revokeKey office ci'));
});
