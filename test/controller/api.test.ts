import t from 'tap';
import assert from 'node:assert/strict';
import { startTestController, type TestController } from '../helpers/controller.ts';

let tc: TestController;
t.before(async () => {
  tc = await startTestController();
});
t.teardown(async () => {
  await tc.stop();
});

const call = (method: string, path: string, opts: { token?: string | null; body?: unknown; raw?: string } = {}) => {
  const headers: Record<string, string> = {};
  const token = opts.token === undefined ? tc.token : opts.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  let body: string | undefined;
  if (opts.raw !== undefined) body = opts.raw;
  else if (opts.body !== undefined) body = JSON.stringify(opts.body);
  if (body !== undefined) headers['content-type'] = 'application/json';
  return tc.fetch(tc.apiUrl + path, { method, headers, ...(body !== undefined ? { body } : {}) });
};

t.test('every route answers 401 without the admin token or with a wrong one', async () => {
  await call('POST', '/api/v1/networks', { body: { name: 'office', cidr: '10.10.0.0/24' } });
  const doc = (await (await call('GET', '/api/v1/openapi.json')).json()) as { paths: Record<string, Record<string, unknown>> };
  const routes: [string, string][] = [['GET', '/api/v1/openapi.json']];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const m of Object.keys(methods)) {
      routes.push([m.toUpperCase(), path.replace('{network}', 'office').replace('{name}', 'x')]);
    }
  }
  assert.ok(routes.length >= 16, `expected all admin routes in the OpenAPI document, got ${routes.length}`);
  routes.push(['GET', '/api/v1/no-such-route'], ['GET', '/']);
  for (const [method, path] of routes) {
    for (const token of [null, 'wrong-token-wrong-token-wrong', 'x']) {
      const body = method === 'POST' || method === 'PATCH' ? { name: 'n', cidr: '10.9.0.0/24' } : undefined;
      const res = await call(method, path, { token, ...(body ? { body } : {}) });
      assert.equal(res.status, 401, `${method} ${path} with token ${token} answered ${res.status}`);
      assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
      const p = (await res.json()) as { code: string };
      assert.equal(p.code, 'UNAUTHENTICATED');
    }
  }
  // nothing was created by the refused calls
  const nets = (await (await call('GET', '/api/v1/networks')).json()) as { name: string }[];
  assert.deepEqual(nets.map((n) => n.name), ['office']);
});

t.test('unknown fields, wrong types and oversized bodies are refused', async () => {
  let res = await call('POST', '/api/v1/networks', { body: { name: 'lab', cidr: '10.20.0.0/24', color: 'red' } });
  assert.equal(res.status, 400);
  assert.equal(((await res.json()) as { code: string }).code, 'INVALID_ARGUMENT');
  res = await call('POST', '/api/v1/networks', { body: { name: 'lab', cidr: '10.20.0.0/24', listenPort: '51821' } });
  assert.equal(res.status, 400);
  res = await call('POST', '/api/v1/networks', { raw: JSON.stringify({ name: 'lab', cidr: '10.20.0.0/24', pad: 'x'.repeat(100_000) }) });
  assert.equal(res.status, 413);
  assert.equal(((await res.json()) as { code: string }).code, 'PAYLOAD_TOO_LARGE');
  res = await call('POST', '/api/v1/networks', { raw: '{not json' });
  assert.equal(res.status, 400);
  res = await call('GET', '/api/v1/networks');
  assert.deepEqual(((await res.json()) as { name: string }[]).map((n) => n.name), ['office']);
});

t.test('problems carry a stable code and a hint', async () => {
  const res = await call('POST', '/api/v1/networks', { body: { name: 'office2', cidr: '10.10.0.0/25' } });
  assert.equal(res.status, 409);
  const p = (await res.json()) as { code: string; detail: string; hint: string };
  assert.equal(p.code, 'CIDR_OVERLAP');
  assert.match(p.detail, /office/);
  assert.ok(p.hint.length > 0);
  const nf = await call('GET', '/api/v1/networks/nope');
  assert.equal(nf.status, 404);
  assert.equal(((await nf.json()) as { code: string }).code, 'NOT_FOUND');
});

t.test('keys: the token is shown once; lists never carry a secret', async () => {
  const res = await call('POST', '/api/v1/networks/office/keys', { body: { name: 'k1', uses: 2, expires: '1h' } });
  assert.equal(res.status, 201);
  const k = (await res.json()) as { token: string; usesRemaining: number; expiresAt: string };
  assert.match(k.token, /^mc1\./);
  assert.equal(k.usesRemaining, 2);
  assert.ok(Date.parse(k.expiresAt) > Date.now());
  const secret = (JSON.parse(Buffer.from(k.token.slice(4), 'base64url').toString()) as { x: string }).x;
  const list = await (await call('GET', '/api/v1/networks/office/keys')).text();
  assert.ok(!list.includes(secret));
  assert.ok(!list.includes('token'));
  const rv = await call('DELETE', '/api/v1/networks/office/keys/k1');
  assert.equal(((await rv.json()) as { revoked: boolean }).revoked, true);
});

t.test('deleting a network removes its keys and records; one with nodes needs force', async () => {
  await call('POST', '/api/v1/networks', { body: { name: 'tmp', cidr: '10.99.0.0/24' } });
  await call('POST', '/api/v1/networks/tmp/keys', { body: { name: 'k' } });
  await call('POST', '/api/v1/networks/tmp/dns', { body: { name: 'printer', address: '10.99.0.200' } });
  const del = await call('DELETE', '/api/v1/networks/tmp');
  assert.equal(del.status, 204);
  await call('POST', '/api/v1/networks', { body: { name: 'tmp', cidr: '10.99.0.0/24' } });
  assert.deepEqual(await (await call('GET', '/api/v1/networks/tmp/keys')).json(), []);
  assert.deepEqual(await (await call('GET', '/api/v1/networks/tmp/dns')).json(), []);
});

t.test('the audit log records admin actions', async () => {
  const entries = await tc.ctl.ctx.store.listAudit(50);
  const actions = entries.map((e) => e.action);
  assert.ok(actions.includes('network.create'));
  assert.ok(actions.includes('key.create'));
  assert.ok(entries.every((e) => e.actor.startsWith('admin:')));
});
