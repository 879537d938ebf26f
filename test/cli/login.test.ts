// Hole 3 (issue 9): the admin API over HTTPS with the controller's CA, login tokens and saved
// contexts, named revocable admin tokens, and failed admin authentications rate-limited.
import t from 'tap';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { startTestController, type TestController } from '../helpers/controller.ts';
import { cli } from '../helpers/cli.ts';
import { decodeLoginToken, encodeLoginToken } from '../../src/core/login-token.ts';
import { checkTransport, isLoopback } from '../../src/cli/admin-client.ts';
import { pinnedFetch } from '../../src/net/pinned-fetch.ts';
import { startController } from '../../src/controller/server.ts';

// Each CLI run starts a process (seconds on a loaded 2-core machine): the whole file gets 10 minutes.
t.setTimeout(600_000);

const json = <T>(s: string): T => JSON.parse(s) as T;

let tc: TestController;
let home: string;
t.before(async () => {
  tc = await startTestController();
  home = await mkdtemp(join(tmpdir(), 'meshctl-home-'));
});
t.teardown(async () => {
  await tc.stop();
  await rm(home, { recursive: true, force: true });
});
/** A CLI environment with its own config dir and no other MESHCTL_* steering it. */
const envOf = (extra: Record<string, string> = {}) => ({ XDG_CONFIG_HOME: join(home, 'cfg'), MESHCTL_DATA_DIR: '', MESHCTL_SERVER: '', MESHCTL_TOKEN: '', MESHCTL_CONTEXT: '', ...extra });

t.test('hole 3: the admin API is HTTPS from the controller CA by default; admin.token is a login token', { timeout: 180_000 }, async (t) => {
  t.match(tc.apiUrl, /^https:\/\/127\.0\.0\.1:\d+$/);
  const lt = decodeLoginToken(tc.token);
  t.equal(lt.server, tc.apiUrl, 'the login token carries the API URL');
  t.equal(lt.caPin, tc.ctl.ctx.caPin, 'and the CA pin');
  t.equal(lt.name, 'initial');
  t.equal((await stat(join(tc.dataDir, 'admin.token'))).mode & 0o777, 0o600);
  // plain HTTP to the HTTPS port gets no API answer
  await t.rejects(pinnedFetch(tc.apiUrl.replace('https:', 'http:') + '/api/v1/networks'));
  // a CA other than the controller's is refused
  const other = await mkdtemp(join(tmpdir(), 'meshctl-other-'));
  t.teardown(() => rm(other, { recursive: true, force: true }));
  const { ensureTls } = await import('../../src/controller/tls.ts');
  const otherCa = (await ensureTls(other, ['127.0.0.1'])).caCertPem;
  await t.rejects(pinnedFetch(tc.apiUrl + '/api/v1/networks', {}, otherCa), 'another CA does not verify the server');
  const ok = await tc.fetch(tc.apiUrl + '/api/v1/networks', { headers: { authorization: `Bearer ${tc.token}` } });
  t.equal(ok.status, 200);
});

t.test('hole 3: --api-insecure serves plain HTTP, and the CLI sends tokens over it only to loopback', { timeout: 180_000 }, async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'meshctl-insecure-'));
  const ctl = await startController({ dataDir, api: { host: '127.0.0.1', port: 0 }, grpc: null, publicHost: '127.0.0.1', store: 'sqlite', apiInsecure: true, configFile: null }, pino({ level: 'silent' }), '0.0.0-test');
  t.teardown(async () => {
    await ctl.close();
    await rm(dataDir, { recursive: true, force: true });
  });
  t.match(ctl.apiUrl, /^http:\/\/127\.0\.0\.1:/);
  const r = await cli(['network', 'list', '--json'], envOf({ MESHCTL_DATA_DIR: dataDir }));
  t.equal(r.code, 0, r.stderr);
  t.same(json(r.stdout), []);
  // the transport check, without sending anything anywhere
  for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '[::1]']) t.ok(isLoopback(host.replace(/^\[|\]$/g, '')), `${host} is loopback`);
  for (const host of ['10.0.0.1', '192.0.2.1', 'example.com', '::ffff:10.0.0.1', '[::2]']) t.notOk(isLoopback(host), `${host} is not loopback`);
  t.throws(() => checkTransport({ base: 'http://192.0.2.1:8081', secret: 'x'.repeat(43), source: 't' }), { code: 'INSECURE_TRANSPORT' });
  t.throws(() => checkTransport({ base: 'https://192.0.2.1:8081', secret: 'x'.repeat(43), source: 't' }), { code: 'INSECURE_TRANSPORT' }, 'https with no CA and no pin');
  t.doesNotThrow(() => checkTransport({ base: 'http://127.0.0.1:8081', secret: 'x'.repeat(43), source: 't' }));
  const refused = await cli(['network', 'list', '--json', '--server', 'http://192.0.2.1:8081', '--token', 'x'.repeat(43)], envOf());
  t.equal(refused.code, 1);
  t.equal(json<{ error: { code: string } }>(refused.stdout).error.code, 'INSECURE_TRANSPORT');
});

t.test('hole 3: MESHCTL_TOKEN may be a login token, or the bare secret with the CA from the data dir', { timeout: 180_000 }, async (t) => {
  const viaLogin = await cli(['network', 'create', 'office', '--cidr', '10.10.0.0/24', '--json'], envOf({ MESHCTL_TOKEN: tc.token }));
  t.equal(viaLogin.code, 0, viaLogin.stderr);
  const secret = decodeLoginToken(tc.token).secret;
  const viaSecret = await cli(['network', 'list', '--json'], envOf({ MESHCTL_TOKEN: secret, MESHCTL_SERVER: tc.apiUrl, MESHCTL_DATA_DIR: tc.dataDir }));
  t.equal(viaSecret.code, 0, viaSecret.stderr);
  t.same(json<{ name: string }[]>(viaSecret.stdout).map((n) => n.name), ['office']);
  const noCa = await cli(['network', 'list', '--json'], envOf({ MESHCTL_TOKEN: secret, MESHCTL_SERVER: tc.apiUrl, MESHCTL_DATA_DIR: join(home, 'none') }));
  t.equal(json<{ error: { code: string } }>(noCa.stdout).error.code, 'INSECURE_TRANSPORT', 'a bare secret and no CA: nothing is sent');
  const dataDirOnly = await cli(['network', 'list', '--json'], envOf({ MESHCTL_DATA_DIR: tc.dataDir }));
  t.equal(dataDirOnly.code, 0, dataDirOnly.stderr);
});

t.test('hole 3: login checks the pin and the secret, saves a 0600 context; --context, MESHCTL_CONTEXT, --list, logout', { timeout: 180_000 }, async (t) => {
  const created = await cli(['admin', 'token', 'create', 'alice', '--json'], envOf({ MESHCTL_TOKEN: tc.token }));
  t.equal(created.code, 0, created.stderr);
  const alice = json<{ name: string; token: string; expiresAt: string | null; revokedAt: string | null }>(created.stdout);
  t.equal(alice.name, 'alice');
  t.match(alice.token, /^mca1\./);
  t.equal(alice.expiresAt, null);

  const wrongPin = encodeLoginToken({ ...decodeLoginToken(alice.token), caPin: 'sha256:' + '0'.repeat(64) });
  const refused = await cli(['login', wrongPin, '--json'], envOf());
  t.equal(refused.code, 1);
  t.equal(json<{ error: { code: string } }>(refused.stdout).error.code, 'TLS_PIN_MISMATCH');
  const wrongSecret = encodeLoginToken({ ...decodeLoginToken(alice.token), secret: 'A'.repeat(43) });
  const unauth = await cli(['login', wrongSecret, '--json'], envOf());
  t.equal(json<{ error: { code: string } }>(unauth.stdout).error.code, 'UNAUTHENTICATED');
  const none = await cli(['login', '--list', '--json'], envOf());
  t.same(json(none.stdout), [], 'a refused login saves nothing');

  const ok = await cli(['login', alice.token, '--json'], envOf());
  t.equal(ok.code, 0, ok.stderr);
  t.match(json(ok.stdout), { name: 'alice', server: tc.apiUrl, tokenName: 'alice', current: true });
  const dir = join(home, 'cfg', 'meshctl');
  t.equal((await stat(dir)).mode & 0o777, 0o700);
  t.equal((await stat(join(dir, 'contexts.json'))).mode & 0o777, 0o600);
  const ops = await cli(['admin', 'token', 'create', 'ops', '--expires', '1h', '--json'], envOf());
  t.equal(ops.code, 0, `the current context works: ${ops.stderr}`);
  const opsTok = json<{ token: string; expiresAt: string }>(ops.stdout);
  t.ok(Date.parse(opsTok.expiresAt) > Date.now() + 3500e3);
  t.equal((await cli(['login', opsTok.token, '--name', 'ops-ctx', '--json'], envOf())).code, 0);
  const list = json<{ name: string; current: boolean }[]>((await cli(['login', '--list', '--json'], envOf())).stdout);
  t.same(list.map((c) => [c.name, c.current]), [['alice', false], ['ops-ctx', true]]);
  t.notMatch(await readFile(join(dir, 'contexts.json'), 'utf8'), /mca1\./, 'the file holds secrets, not login tokens to paste');

  // every admin command picks the context the same way
  const who = async (extra: string[], env: Record<string, string> = {}) => {
    const r = await cli(['admin', 'token', 'list', '--json', ...extra], envOf(env));
    t.equal(r.code, 0, r.stderr);
    return r;
  };
  await who(['--context', 'alice']);
  await who([], { MESHCTL_CONTEXT: 'alice' });
  const missing = await cli(['network', 'list', '--json', '--context', 'nope'], envOf());
  t.equal(json<{ error: { code: string } }>(missing.stdout).error.code, 'NOT_FOUND');
  // the audit log names the token that acted
  const audit = await tc.ctl.ctx.store.listAudit(20);
  t.ok(audit.some((e) => e.actor === 'admin:alice' && e.action === 'admin-token.create' && e.target === 'ops'), 'audit names alice');

  const out = await cli(['logout', '--json'], envOf());
  t.same(json(out.stdout), { name: 'ops-ctx', removed: true });
  const after = json<{ name: string; current: boolean }[]>((await cli(['login', '--list', '--json'], envOf())).stdout);
  t.same(after.map((c) => c.name), ['alice']);
  t.equal((await cli(['logout', 'alice'], envOf())).code, 0);
});

t.test('hole 3: a revoked or expired admin token gets 401 on the next request; list never shows a secret', { timeout: 180_000 }, async (t) => {
  const api = (token: string, method = 'GET', path = '/networks', body?: unknown) =>
    tc.fetch(`${tc.apiUrl}/api/v1${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
  const res = await api(tc.token, 'POST', '/admin/tokens', { name: 'bob' });
  t.equal(res.status, 201);
  const bob = (await res.json()) as { token: string };
  t.equal((await api(bob.token)).status, 200);
  const secret = decodeLoginToken(bob.token).secret;
  t.equal((await api(secret)).status, 200, 'the bare secret works as a bearer token too');
  const revoked = await api(tc.token, 'DELETE', '/admin/tokens/bob');
  t.equal(revoked.status, 200);
  const at = Date.now();
  const after = await api(bob.token);
  t.equal(after.status, 401);
  t.ok(Date.now() - at < 1000);
  t.match(((await after.json()) as { detail: string }).detail, /revoked/);
  t.equal((await api(secret, 'POST', '/admin/tokens', { name: 'bob2' })).status, 401, 'no route takes it');
  t.equal((await api(tc.token, 'POST', '/admin/tokens', { name: 'bob' })).status, 409, 'a revoked name stays taken');

  // an expired token: made with a 1 s expiry
  const short = (await (await api(tc.token, 'POST', '/admin/tokens', { name: 'brief', expires: '1s' })).json()) as { token: string };
  t.equal((await api(short.token)).status, 200);
  await new Promise((r) => setTimeout(r, 1100));
  const expired = await api(short.token);
  t.equal(expired.status, 401);
  t.match(((await expired.json()) as { detail: string }).detail, /expired/);

  const list = (await (await api(tc.token, 'GET', '/admin/tokens')).json()) as Record<string, unknown>[];
  t.same(list.map((x) => x.name).sort(), ['alice', 'bob', 'brief', 'initial', 'ops']);
  t.ok(list.every((x) => !('token' in x)), 'no secret in the list');
  t.ok(list.find((x) => x.name === 'bob')!.revokedAt);
  const db = await readFile(join(tc.dataDir, 'meshctl.db'));
  t.notOk(db.includes(Buffer.from(secret)), 'the secret is not in the database');
});

t.test('hole 3: failed admin authentications are rate-limited per source address like failed joins', { timeout: 180_000 }, async (t) => {
  const lim = await startTestController({ authFailuresPerMinute: 3 });
  t.teardown(() => lim.stop());
  const get = (auth?: string) => lim.fetch(`${lim.apiUrl}/api/v1/networks`, auth ? { headers: { authorization: auth } } : {});
  for (let i = 0; i < 5; i++) t.equal((await get()).status, 401, 'a missing token is no guess: never limited');
  for (let i = 0; i < 3; i++) t.equal((await get(`Bearer ${'W'.repeat(43)}`)).status, 401);
  const limited = await get(`Bearer ${'W'.repeat(43)}`);
  t.equal(limited.status, 429);
  t.equal(((await limited.json()) as { code: string }).code, 'RATE_LIMITED');
  t.equal((await get(`Bearer ${lim.token}`)).status, 429, 'past the budget even a right token waits (a guess must not learn it was right)');
});

t.test('hole 3: an admin.token from before login tokens keeps working and is rewritten; a revoked one is not brought back', { timeout: 180_000 }, async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'meshctl-legacy-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const legacy = 'L'.repeat(43);
  await writeFile(join(dataDir, 'admin.token'), legacy + '\n', { mode: 0o600 });
  const a = await startTestController({ dataDir });
  t.equal(decodeLoginToken(a.token).secret, legacy, 'the secret is kept, in the login format');
  t.equal((await a.fetch(`${a.apiUrl}/api/v1/networks`, { headers: { authorization: `Bearer ${legacy}` } })).status, 200);
  t.equal((await a.fetch(`${a.apiUrl}/api/v1/admin/tokens/initial`, { method: 'DELETE', headers: { authorization: `Bearer ${legacy}` } })).status, 200);
  await a.ctl.close();
  const b = await startTestController({ dataDir });
  t.teardown(() => b.stop());
  t.equal((await b.fetch(`${b.apiUrl}/api/v1/networks`, { headers: { authorization: `Bearer ${b.token}` } })).status, 401, 'a restart does not revive a revoked token');
});
