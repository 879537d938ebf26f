// The authorization matrix (issue 9, "Proof beyond the fixes"), harness tier: every admin route,
// taken from fastify's own route table (a new route is covered without editing this file), x {no
// token, wrong token, revoked token, expired token, a node credential}; and every node RPC that
// takes a credential x {none, another node's (its id with a secret not its own), a deleted node's,
// a pending node's, one of another network}. Each answer is the expected refusal, and the store
// reads the same before and after.
import t from 'tap';
import { startHarness, type Harness } from '../helpers/harness.ts';
import { join } from '../../src/agent/node.ts';
import { loadState } from '../../src/agent/state.ts';
import { NodeClient } from '../../src/agent/client.ts';
import { MeshError } from '../../src/core/errors.ts';

t.setTimeout(600_000);
let h: Harness;
t.before(async () => { h = await startHarness(); });
t.teardown(() => h?.stopAll());

/** Everything the admin API or a node could change, minus soft state (contact times). */
async function snapshot(h: Harness) {
  const s = h.ctl.ctx.store;
  const nets = await s.listNetworks();
  const per = await Promise.all(nets.map(async (n) => ({
    keys: await s.listKeys(n.name),
    dns: await s.listDns(n.name),
    nodes: (await s.listNodes(n.name)).map(({ lastCheckin: _l, ...rest }) => rest),
  })));
  return { nets, per, tokens: await s.listAdminTokens(), audit: (await s.listAudit(1000)).length };
}

const codeOf = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
    return 'OK';
  } catch (e) {
    return e instanceof MeshError ? e.code : `not a MeshError: ${e}`;
  }
};

t.test('authorization matrix: admin routes x bad credentials, node RPCs x foreign credentials', async (t) => {
  const tokenFor = async (network: string, extra: Record<string, unknown> = {}) => (await h.admin<{ token: string }>('POST', `/networks/${network}/keys`, { name: `k-${network}${extra.name ?? ''}`, uses: 'unlimited', ...extra })).token;
  await h.admin('POST', '/networks', { name: 'office', cidr: '10.10.0.0/24' });
  await h.admin('POST', '/networks', { name: 'vetted', cidr: '10.30.0.0/24', manualApproval: true });
  await h.admin('POST', '/networks', { name: 'other', cidr: '10.20.0.0/24' });
  await h.admin('POST', '/networks/office/dns', { name: 'printer', address: '10.10.0.200' });
  const officeKey = await tokenFor('office');
  const envs = { a: await h.agent(), b: await h.agent(), gone: await h.agent(), pend: await h.agent(), far: await h.agent() };
  await join(envs.a, { token: officeKey, name: 'a' });
  await join(envs.b, { token: officeKey, name: 'b' });
  await join(envs.gone, { token: officeKey, name: 'gone' });
  await join(envs.pend, { token: await tokenFor('vetted'), name: 'pend' });
  await join(envs.far, { token: await tokenFor('other'), name: 'far' });
  const st = {
    a: await loadState(envs.a.configDir, 'office'),
    b: await loadState(envs.b.configDir, 'office'),
    gone: await loadState(envs.gone.configDir, 'office'),
    pend: await loadState(envs.pend.configDir, 'vetted'),
    far: await loadState(envs.far.configDir, 'other'),
  };
  await h.admin('DELETE', '/networks/office/nodes/gone');

  // admin credentials that must all be refused
  const mk = async (name: string, expires?: string) => (await h.admin<{ token: string }>('POST', '/admin/tokens', { name, ...(expires ? { expires } : {}) })).token;
  const revoked = await mk('revoked');
  await h.admin('DELETE', '/admin/tokens/revoked');
  const expired = await mk('expired', '1s');
  await new Promise((r) => setTimeout(r, 1200));
  const creds: [string, string | null][] = [
    ['no token', null],
    ['wrong token', 'W'.repeat(43)],
    ['revoked token', revoked],
    ['expired token', expired],
    ['a node credential', `${st.a.credential}`],
  ];

  const routes = h.ctl.apiRoutes;
  t.ok(routes.length >= 20, `the route table has every admin route (${routes.length})`);
  // Parameters that name real things, and bodies that would succeed: a hole would show as a change.
  const fill = (url: string) => url
    .replace(':network', 'office')
    .replace(/\/keys\/:name/, '/keys/k-office')
    .replace(/\/nodes\/:name/, '/nodes/a')
    .replace(/\/dns\/:name/, '/dns/printer')
    .replace(/\/tokens\/:name/, '/tokens/initial')
    .replace(/:[a-zA-Z]+/g, 'x')
    .replace(/\*$/, 'x');
  const bodyFor = (method: string, url: string): unknown => {
    if (method !== 'POST' && method !== 'PATCH' && method !== 'PUT') return undefined;
    if (method === 'PATCH') return { keepalive: 7 };
    if (url.endsWith('/networks')) return { name: 'evil', cidr: '10.99.0.0/24' };
    if (url.endsWith('/keys')) return { name: 'evil', uses: 'unlimited' };
    if (url.endsWith('/dns')) return { name: 'evil', address: '10.10.0.99' };
    if (url.endsWith('/tokens')) return { name: 'evil' };
    return undefined;
  };
  const before = await snapshot(h);
  let cells = 0;
  for (const r of routes) {
    const url = fill(r.url);
    const body = bodyFor(r.method, url);
    for (const [what, cred] of creds) {
      const res = await h.fetch(`${h.apiUrl}${url}${url.includes('/networks/office') && r.method === 'DELETE' ? '?force=true' : ''}`, {
        method: r.method,
        headers: { ...(cred ? { authorization: `Bearer ${cred}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      const code = (() => { try { return (JSON.parse(text) as { code?: string }).code; } catch { return text.slice(0, 80); } })();
      t.equal(`${res.status} ${code}`, '401 UNAUTHENTICATED', `${r.method} ${r.url} with ${what}`);
      cells++;
    }
  }
  t.same(await snapshot(h), before, `nothing changed after ${cells} refused admin requests`);

  // node RPCs: CheckIn, Watch, Leave (Join takes an access key, not a credential: test/harness/join.test.ts)
  const secretOf = (c: string) => c.split('.')[1]!;
  const client = (cred: string | null) => new NodeClient(st.a.server.split(',')[0]!, st.a.caPem, cred);
  const checkIn = (c: NodeClient) => c.checkIn({ listenPort: 51999, endpoint: '192.0.2.7:51999', knownVersion: 0, handshakes: [] });
  const watchFirst = (c: NodeClient) => new Promise<{ peers: string[]; network: string }>((resolve, reject) => {
    const stop = c.watch(0, (ev) => {
      const v = (ev as { snapshot?: { network?: { name?: string }; peers?: { name: string }[] } }).snapshot;
      stop();
      resolve({ peers: (v?.peers ?? []).map((p) => p.name), network: v?.network?.name ?? '' });
    }, reject);
  });
  const refusals: [string, string | null, string][] = [
    ['no credential', null, 'UNAUTHENTICATED'],
    ["another node's (b's id, a's secret)", `${st.b.nodeId}.${secretOf(st.a.credential)}`, 'UNAUTHENTICATED'],
    ["a deleted node's", st.gone.credential, 'NODE_REMOVED'],
  ];
  const nodeBefore = await snapshot(h);
  for (const [what, cred, want] of refusals) {
    const c = client(cred);
    t.equal(await codeOf(checkIn(c)), want, `CheckIn with ${what}`);
    t.equal(await codeOf(watchFirst(c)), want, `Watch with ${what}`);
    t.equal(await codeOf(c.leave()), want, `Leave with ${what}`);
    c.close();
  }
  // A pending node's credential: it may ask, but learns no peer and its statements change nothing
  // another node sees; a credential of another network only ever reaches that network.
  const pend = client(st.pend.credential);
  const pv = (await checkIn(pend)).view!;
  t.same(pv.peers.map((p) => p.name), [], "a pending node's check-in shows no peer");
  t.same((await watchFirst(pend)).peers, [], "a pending node's Watch shows no peer");
  pend.close();
  const far = client(st.far.credential);
  const fv = (await checkIn(far)).view!;
  t.equal(fv.self.id, st.far.nodeId, 'a credential of network "other" is that node, in that network');
  t.same(fv.peers.map((p) => p.name), [], 'and sees nothing of office');
  t.equal((await watchFirst(far)).network, 'other');
  far.close();
  const after = await snapshot(h);
  // The pending and far nodes stated a new endpoint and port for themselves: that is all that moved.
  const self = (s: typeof after) => s.per.map((p) => ({ ...p, nodes: p.nodes.map((n) => (n.name === 'pend' || n.name === 'far' ? { ...n, endpoint: null, endpointStated: false, listenPort: 0 } : n)) }));
  t.same(self(after), self(nodeBefore), 'no other node, key, record or network changed');
  t.same(after.tokens, nodeBefore.tokens);
  // and the pending node and the far node cannot leave anyone but themselves: their Leave removes only them
  const pendLeave = client(st.pend.credential);
  await pendLeave.leave();
  pendLeave.close();
  t.same((await h.ctl.ctx.store.listNodes('office')).map((n) => n.name).sort(), ['a', 'b'], "a pending node's Leave touches no office node");
  t.same((await h.ctl.ctx.store.listNodes('vetted')).map((n) => n.name), [], 'it removed itself');
});
