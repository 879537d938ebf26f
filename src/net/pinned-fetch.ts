// The admin client's transport: one HTTP request over TLS that trusts only the controller's CA
// (given as PEM, already pinned or read from the data directory), or over plain HTTP. Resolves to
// a web Response so callers read it like fetch's. The server name is not checked: the CA is
// private and pinned, and admins may dial the controller by any address (as nodes do).
import type { IncomingMessage } from 'node:http';

// node:https (and node:tls and node:crypto behind it) loads with the first https request, not
// at every CLI start; node:http likewise with the first plain one.

export interface PinnedRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs?: number;
}

function requestOptions(u: URL, init: PinnedRequest, caPem: string | undefined) {
  const https = u.protocol === 'https:';
  return {
    method: init.method ?? 'GET',
    headers: { ...(init.headers ?? {}), ...(init.body !== undefined ? { 'content-length': String(Buffer.byteLength(init.body)) } : {}) },
    agent: false as const,
    timeout: init.timeoutMs ?? 15_000,
    ...(https ? { ca: caPem, rejectUnauthorized: true, checkServerIdentity: () => undefined } : {}),
  };
}

/**
 * Opens a long-lived response (an event stream): resolves with the response as soon as its
 * headers arrive, whatever its status, for the caller to read. `timeoutMs` bounds the wait for
 * the headers only. Aborting `signal` destroys the connection.
 */
export function pinnedStream(url: string, init: PinnedRequest & { signal?: AbortSignal }, caPem?: string): Promise<IncomingMessage> {
  const u = new URL(url);
  const https = u.protocol === 'https:';
  if (https && !caPem) return Promise.reject(new Error(`no CA to verify ${u.origin}`));
  return new Promise<IncomingMessage>((resolve, reject) => {
    const onResponse = (res: IncomingMessage) => {
      req.setTimeout(0);
      resolve(res);
    };
    const opts = { ...requestOptions(u, init, caPem), ...(init.signal ? { signal: init.signal } : {}) };
    const req = https ? process.getBuiltinModule('node:https').request(u, opts, onResponse) : process.getBuiltinModule('node:http').request(u, opts, onResponse);
    req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end();
  });
}

/** Sends `init` to `url`; for https:// it needs `caPem` and accepts no other issuer. */
export function pinnedFetch(url: string, init: PinnedRequest = {}, caPem?: string): Promise<Response> {
  const u = new URL(url);
  const https = u.protocol === 'https:';
  if (https && !caPem) return Promise.reject(new Error(`no CA to verify ${u.origin}`));
  return new Promise<Response>((resolve, reject) => {
    const opts = requestOptions(u, init, caPem);
    const onResponse = (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        const headers = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
        const status = res.statusCode ?? 500;
        const empty = body.length === 0 || status === 204 || status === 304;
        resolve(new Response(empty ? null : body, { status, headers }));
      });
    };
    const req = https ? process.getBuiltinModule('node:https').request(u, opts, onResponse) : process.getBuiltinModule('node:http').request(u, opts, onResponse);
    req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    if (init.body !== undefined) req.write(init.body);
    req.end();
  });
}
