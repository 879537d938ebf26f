// A network's nodes: live status, contact and handshake ages, traffic sparkline; approve and
// delete (confirmed); a node that joins shows without a key press; 1,000 nodes scroll.
import t from 'tap';
import assert from 'node:assert/strict';
import { dash, fits, mesh } from '../helpers/dash-fixture.ts';
import { KEY, sleep } from '../helpers/ink.ts';

const office = { initial: { kind: 'network' as const, network: 'office', tab: 'nodes' as const } };

t.test('shows each node with status, address, contact and handshake ages, at 80x24', async (t) => {
  const s = mesh();
  const hs = new Date(Date.now() - 42_000).toISOString();
  s.soft.set('id-n1', { id: 'id-n1', name: 'n1', address: '10.0.0.1', endpoint: '172.31.0.11:51821', listenPort: 51821, status: 'healthy', lastContact: new Date().toISOString(), version: 3, rxBytes: 2048, txBytes: 4096, handshakes: [{ peer: 'n2', publicKey: 'pk-n2', at: hs }] });
  const d = dash(s, office);
  t.teardown(d.unmount);
  const f = await d.waitFor((f) => /n1/.test(f) && /p1/.test(f), 2000, 'the nodes');
  assert.match(f, /n1\s+10\.0\.0\.1\s+healthy\s+\d+s\s+4[0-9]s\s+2\.0K\s+4\.0K/);
  assert.match(f, /n3\s+10\.0\.0\.3\s+stale/);
  assert.match(f, /p1\s+10\.0\.0\.4\s+pending/);
  assert.match(d.raw(), /\x1b\[33mstale/, 'stale is yellow');
  assert.match(d.raw(), /\x1b\[32mhealthy/, 'healthy is green');
  assert.equal(fits(f), null);
});

t.test('the traffic sparkline follows the polled byte counts', async (t) => {
  const s = mesh();
  const base = { id: 'id-n1', name: 'n1', address: '10.0.0.1', endpoint: null, listenPort: 51821, status: 'healthy' as const, lastContact: null, version: 1, handshakes: [] };
  let rx = 0;
  s.soft.set('id-n1', { ...base, rxBytes: 0, txBytes: 0 });
  const d = dash(s, office);
  t.teardown(d.unmount);
  await d.waitFor((f) => /n1/.test(f));
  const sparkOf = () => / n1 |^n1/m.test(d.frame()) ? (d.frame().split('\n').find((l) => l.startsWith('n1'))!.match(/[▁▂▃▄▅▆▇█]+\s*$/)?.[0]?.trim() ?? '') : '';
  for (let i = 1; i <= 3; i++) {
    rx += i * 1000;
    s.soft.set('id-n1', { ...base, rxBytes: rx, txBytes: 0 });
    const before = sparkOf();
    await d.waitFor(() => sparkOf() !== before, 3000, `poll ${i} drawn`); // a poll took the new count
  }
  const line = d.frame().split('\n').find((l) => l.startsWith('n1'))!;
  assert.match(line, /[▁▂▃▄▅▆▇█]{2,}/, `a sparkline with samples: ${line}`);
  assert.match(line, /█/, 'the largest sample reaches the top');
});

t.test('a node that joins appears within 1 s of the change event, without a key press', async (t) => {
  const s = mesh();
  const d = dash(s, office);
  t.teardown(d.unmount);
  await d.waitFor((f) => /n1/.test(f));
  const n = s.addNode('office', 'newbie');
  const t0 = Date.now();
  s.emit({ type: 'change', change: { kind: 'node-upserted', network: 'office', version: 9, node: n as never, keepalive: 20 } });
  await d.waitFor((f) => /newbie/.test(f), 1000, 'the new node');
  assert.ok(Date.now() - t0 < 1000);
});

t.test('a status event turns a node stale on screen', async (t) => {
  const s = mesh();
  const d = dash(s, office);
  t.teardown(d.unmount);
  await d.waitFor((f) => /n2\s+10\.0\.0\.2\s+healthy/.test(f));
  s.nodes.find((n) => n.name === 'n2')!.status = 'stale';
  s.emit({ type: 'status', network: 'office', nodeId: 'id-n2', name: 'n2', status: 'stale', lastContact: null });
  await d.waitFor((f) => /n2\s+10\.0\.0\.2\s+stale/.test(f), 1000, 'n2 stale');
});

t.test('a approves a pending node', async (t) => {
  const s = mesh();
  const d = dash(s, office);
  t.teardown(d.unmount);
  await d.waitFor((f) => /p1/.test(f));
  await d.press('a'); // n1 is not pending: refused locally
  await d.waitFor((f) => /n1 is not pending approval/.test(f), 1000);
  await d.press(KEY.down, KEY.down, KEY.down, 'a');
  await d.waitFor((f) => /Approved p1/.test(f), 1000, 'the approval');
  assert.ok(s.calls.includes('approveNode office p1'));
  assert.equal(s.nodes.find((n) => n.name === 'p1')!.status, 'healthy');
});

t.test('d deletes a node only after y', async (t) => {
  const s = mesh();
  const d = dash(s, office);
  t.teardown(d.unmount);
  await d.waitFor((f) => /n3/.test(f));
  await d.press(KEY.down, KEY.down, 'd');
  await d.waitFor((f) => /Delete node n3 \(10\.0\.0\.3\) from office\?/.test(f), 1000, 'the question');
  await d.press('n');
  await d.waitFor((f) => !/Delete node/.test(f), 1000, 'the question gone');
  assert.ok(!s.calls.some((c) => c.startsWith('deleteNode')));
  await d.press('d');
  await d.waitFor((f) => /Delete node n3/.test(f), 1000);
  await d.press('y');
  await d.waitFor((f) => /Deleted node n3/.test(f), 1000, 'deleted');
  assert.ok(s.calls.includes('deleteNode office n3'));
  s.emit({ type: 'change', change: { kind: 'node-removed', network: 'office', version: 9, nodeId: 'id-n3', publicKey: 'pk-n3' } });
  await d.waitFor((f) => !/n3\s+10/.test(f), 1000, 'n3 gone from the list');
});

t.test('1,000 nodes: a window of them, the cursor scrolls, End reaches the last', async (t) => {
  const s = mesh();
  for (let i = 0; i < 1000; i++) s.addNode('office', `bulk${String(i).padStart(4, '0')}`);
  const d = dash(s, office);
  t.teardown(d.unmount);
  let f = await d.waitFor((f) => /1\/1004 nodes/.test(f), 3000, 'the list');
  assert.equal(fits(f), null);
  assert.doesNotMatch(f, /bulk0100/);
  await d.press('G');
  f = await d.waitFor((f) => /1004\/1004 nodes/.test(f), 2000, 'the end');
  assert.match(f, /bulk0999/);
  assert.equal(fits(f), null);
});

t.test('Enter opens the node detail: peers, handshakes, endpoint, listen port, version', async (t) => {
  const s = mesh();
  s.soft.set('id-n1', { id: 'id-n1', name: 'n1', address: '10.0.0.1', endpoint: '172.31.0.11:51821', listenPort: 51821, status: 'healthy', lastContact: new Date().toISOString(), version: 7, rxBytes: 10, txBytes: 20, handshakes: [{ peer: 'n2', publicKey: 'pk-n2', at: new Date(Date.now() - 5000).toISOString() }] });
  const d = dash(s, office);
  t.teardown(d.unmount);
  await d.waitFor((f) => /n1/.test(f));
  await d.press(KEY.enter);
  const f = await d.waitFor((f) => /version applied 7/.test(f), 2000, 'the detail');
  assert.match(f, /n1\.office\s+healthy/);
  assert.match(f, /endpoint\s+172\.31\.0\.11:51821\s+\(listen port 51821\)/);
  assert.match(f, /n2\s+10\.0\.0\.2\s+direct\s+172\.31\.0\.12:51821\s+[5-9]s/);
  assert.match(f, /n3\s+10\.0\.0\.3\s+direct.*never/);
  assert.equal(fits(f), null);
  await d.press(KEY.esc);
  await d.waitFor((f) => /1\/4 nodes/.test(f), 1000, 'back on the list');
});
