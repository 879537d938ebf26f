// Gateways and external clients: ingress on (off after y), egress ranges (checked as you type),
// a new client whose private key is made here and shown once in its config, with a QR code.
import t from 'tap';
import assert from 'node:assert/strict';
import { dash, fits, mesh } from '../helpers/dash-fixture.ts';
import { KEY } from '../helpers/ink.ts';

const gwTab = { initial: { kind: 'network' as const, network: 'office', tab: 'gateways' as const } };

t.test('ingress on and off, egress ranges, roles shown', async (t) => {
  const s = mesh();
  const d = dash(s, gwTab);
  t.teardown(d.unmount);
  let f = await d.waitFor((f) => /n1\s+no\s+-/.test(f), 2000, 'the nodes');
  assert.equal(fits(f), null);
  await d.press('i');
  f = await d.waitFor((f) => /n1\s+yes/.test(f), 2000, 'n1 ingress');
  assert.ok(s.calls.includes('setIngress office n1 true'));
  await d.press('i');
  await d.waitFor((f) => /Stop n1 being an ingress gateway\?/.test(f));
  await d.press('y');
  await d.waitFor((f) => /n1\s+no/.test(f), 2000, 'n1 not ingress');
  await d.press(KEY.down, 'e');
  await d.waitFor((f) => /Egress gateway n2/.test(f));
  await d.type('192.168.7.1/24');
  await d.waitFor((f) => /host bits set/.test(f), 1000, 'the range error as typed');
  await d.press(KEY.backspace, KEY.backspace, KEY.backspace, KEY.backspace);
  await d.type('0/24');
  await d.press(KEY.enter, KEY.backspace);
  await d.type('y');
  await d.press(KEY.enter);
  await d.waitFor((f) => /n2\s+no\s+192\.168\.7\.0\/24\s+yes/.test(f), 2000, 'n2 egress with NAT');
  assert.ok(s.calls.includes('setEgress office n2 {"ranges":["192.168.7.0/24"],"nat":true}'));
  await d.press('E');
  await d.waitFor((f) => /Stop n2 being an egress gateway/.test(f));
  await d.press('y');
  await d.waitFor((f) => /n2\s+no\s+-/.test(f), 2000, 'n2 egress off');
});

t.test('create a client: the config with its private key shown once; only the public key sent', async (t) => {
  const s = mesh();
  s.nodes[0]!.ingress = true;
  const d = dash(s, { ...gwTab, size: { columns: 100, rows: 60 } });
  t.teardown(d.unmount);
  await d.waitFor((f) => /n1\s+yes/.test(f));
  await d.press('n');
  await d.waitFor((f) => /New external client in office/.test(f) && /ingress gateway: n1/.test(f), 1000, 'the form, gateway filled in');
  await d.type('phone');
  await d.press(KEY.enter, KEY.enter);
  const f = await d.waitFor((f) => /PrivateKey = /.test(f) && /▀|▄/.test(f), 3000, 'the config and QR');
  const priv = /PrivateKey = (\S+)/.exec(f)![1]!;
  assert.equal(s.sentClientKeys.length, 1);
  assert.ok(!s.calls.some((c) => c.includes(priv)), 'the private key never went to the controller');
  await d.press(KEY.esc);
  const after = await d.waitFor((f) => /phone\s+10\.0\.0\.200\s+n1\s+yes\s+never/.test(f), 2000, 'the client listed');
  assert.ok(!after.includes(priv));
});
