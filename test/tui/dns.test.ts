// DNS records: listed with type and source; add (checked as you type), remove a custom one after y;
// a node's own name cannot be removed here.
import t from 'tap';
import assert from 'node:assert/strict';
import { dash, fits, mesh } from '../helpers/dash-fixture.ts';
import { KEY } from '../helpers/ink.ts';

const dnsTab = { initial: { kind: 'network' as const, network: 'office', tab: 'dns' as const } };

t.test('add a record, then remove it after y; node names stay', async (t) => {
  const s = mesh();
  s.records.push({ name: 'n1', network: 'office', address: '10.0.0.1', source: 'node', type: 'A' });
  const d = dash(s, dnsTab);
  t.teardown(d.unmount);
  let f = await d.waitFor((f) => /n1\s+A\s+10\.0\.0\.1\s+node/.test(f), 2000, 'the node record');
  assert.equal(fits(f), null);
  await d.press('d');
  await d.waitFor((f) => /n1 is a node's own name/.test(f), 1000);
  await d.press('n');
  await d.waitFor((f) => /New DNS record in office/.test(f));
  await d.type('printer');
  await d.press(KEY.enter);
  await d.type('300.1.1.1');
  await d.waitFor((f) => /record address/.test(f), 1000, 'the address error as typed');
  for (let i = 0; i < 9; i++) await d.press(KEY.backspace);
  await d.type('10.10.0.50');
  await d.press(KEY.enter);
  f = await d.waitFor((f) => /printer\s+A\s+10\.10\.0\.50\s+custom/.test(f), 2000, 'the new record');
  assert.ok(s.calls.includes('addDns office printer 10.10.0.50'));
  await d.press(KEY.down, 'd');
  await d.waitFor((f) => /Remove DNS record printer \(10\.10\.0\.50\)\?/.test(f));
  await d.press('y');
  await d.waitFor((f) => /Removed record printer/.test(f) && !/printer\s+A/.test(f), 2000, 'removed');
  assert.ok(s.calls.includes('removeDns office printer'));
});
