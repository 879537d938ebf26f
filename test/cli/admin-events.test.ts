// The event stream client against a real HTTP server on loopback: events parsed, the bearer token
// sent, a dropped stream resumed from the last event id, refusals and silence reported as down.
import t from 'tap';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AdminClient } from '../../src/cli/admin-client.ts';
import { followEvents } from '../../src/cli/admin-events.ts';
import type { SseEvent } from '../../src/core/sse.ts';

async function server(handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const srv = createServer(handler);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`, close: () => new Promise<void>((r) => { srv.closeAllConnections(); srv.close(() => r()); }) };
}

t.test('follows, reconnects with Last-Event-ID, stops on abort', async (t) => {
  const seen: { auth?: string; last?: string; url?: string }[] = [];
  const srv = await server((req, res) => {
    seen.push({ auth: req.headers.authorization, last: req.headers['last-event-id'] as string | undefined, url: req.url });
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    if (seen.length === 1) {
      res.write(': ping\n\nevent: change\nid: c1\ndata: {"kind":"dns"}\n\n');
      setTimeout(() => res.end(), 50); // the connection drops
    } else {
      res.write('event: reset\ndata: {}\n\n');
    }
  });
  t.teardown(srv.close);
  const ac = new AbortController();
  const events: SseEvent[] = [];
  const links: (string | null)[] = [];
  const client = new AdminClient({ server: srv.url, token: 's3cret' });
  const done = followEvents(client, { network: 'office', signal: ac.signal, maxDelayMs: 200, onEvent: (e) => events.push(e), onLink: (e) => links.push(e ? (e as { code?: string }).code ?? 'error' : null) });
  const until = Date.now() + 5000;
  while (events.length < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  ac.abort();
  await done;
  assert.deepEqual(events.map((e) => e.event), ['change', 'reset']);
  assert.equal(seen[0]!.auth, 'Bearer s3cret');
  assert.equal(seen[0]!.url, '/api/v1/events?network=office');
  assert.equal(seen[1]!.last, 'c1', 'resumed from the last id');
  assert.match(seen[1]!.url!, /since=c1/);
  assert.deepEqual(links.slice(0, 3), [null, 'UNREACHABLE', null]);
});

t.test('a refusal (problem+json) and a dead port come back as down links, and it keeps trying', async (t) => {
  const srv = await server((_req, res) => {
    res.writeHead(401, { 'content-type': 'application/problem+json' });
    res.end(JSON.stringify({ code: 'UNAUTHENTICATED', detail: 'bad token' }));
  });
  t.teardown(srv.close);
  for (const [url, code] of [[srv.url, 'UNAUTHENTICATED'], ['http://127.0.0.1:1', 'UNREACHABLE']] as const) {
    const ac = new AbortController();
    const errs: Error[] = [];
    const done = followEvents(new AdminClient({ server: url, token: 'x' }), { signal: ac.signal, maxDelayMs: 50, onEvent: () => {}, onLink: (e) => e && errs.push(e) });
    const until = Date.now() + 3000;
    while (errs.length < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    ac.abort();
    await done;
    assert.ok(errs.length >= 2, 'retried');
    assert.equal((errs[0] as { code?: string }).code, code);
  }
});

t.test('a silent stream is taken as dead and reopened', async (t) => {
  let n = 0;
  const srv = await server((_req, res) => {
    n++;
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(': hello\n\n');
  });
  t.teardown(srv.close);
  const ac = new AbortController();
  const done = followEvents(new AdminClient({ server: srv.url, token: 'x' }), { signal: ac.signal, maxDelayMs: 50, idleMs: 100, onEvent: () => {} });
  const until = Date.now() + 3000;
  while (n < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  ac.abort();
  await done;
  assert.ok(n >= 2, 'reconnected after the silence');
});
