// The admin API's event stream (GET /api/v1/events, server-sent events) as a client: connects
// with the same target, secret and pinned CA as every admin call, parses the events, and
// reconnects by itself with capped backoff, resuming from the last event id.
import { request as httpsRequest } from 'node:https';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { MeshError, codeForStatus } from '../core/errors.ts';
import { backoffDelay } from '../core/backoff.ts';
import { SseParser, type SseEvent } from '../core/sse.ts';
import type { AdminClient } from './admin-client.ts';

export interface FollowOptions {
  network?: string;
  /** Resume after this event id. */
  since?: string;
  signal: AbortSignal;
  onEvent: (e: SseEvent) => void;
  /** Connected (null) or lost, retrying (the error). */
  onLink?: (err: Error | null) => void;
  /** The longest wait between two connection attempts. */
  maxDelayMs?: number;
  /** A stream silent for this long is taken as dead (the server pings every 15 s). */
  idleMs?: number;
}

/** One connection: resolves when the stream ends (or `signal` aborts), rejects when it cannot connect. */
async function streamOnce(client: AdminClient, o: FollowOptions, parser: SseParser, since: string | undefined): Promise<void> {
  const ca = await client.trustedCa();
  const r = await client.resolve();
  const q = new URLSearchParams();
  if (o.network) q.set('network', o.network);
  if (since) q.set('since', since);
  const url = new URL(`${client.base}/api/v1/events${q.size ? `?${q}` : ''}`);
  const https = url.protocol === 'https:';
  return new Promise<void>((resolve, reject) => {
    let idle: NodeJS.Timeout | undefined;
    const opts = {
      method: 'GET',
      headers: { authorization: `Bearer ${r.target.secret}`, accept: 'text/event-stream', ...(since ? { 'last-event-id': since } : {}) },
      agent: false as const,
      timeout: 15_000,
      ...(https ? { ca, rejectUnauthorized: true, checkServerIdentity: () => undefined } : {}),
    };
    const onAbort = () => req.destroy();
    const finish = (err?: Error) => {
      clearTimeout(idle);
      o.signal.removeEventListener('abort', onAbort);
      if (err && !o.signal.aborted) reject(err);
      else resolve();
    };
    const onResponse = (res: IncomingMessage) => {
      if (res.statusCode !== 200) {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString('utf8')));
        res.on('end', () => {
          let p: { code?: string; detail?: string } = {};
          try {
            p = JSON.parse(body) as typeof p;
          } catch { /* not problem+json */ }
          finish(new MeshError(codeForStatus(res.statusCode ?? 500), p.detail ?? `the controller answered ${res.statusCode} to the event stream`));
        });
        return;
      }
      req.setTimeout(0);
      o.onLink?.(null);
      const bump = () => {
        clearTimeout(idle);
        idle = setTimeout(() => req.destroy(Object.assign(new Error('event stream silent'), { code: 'ETIMEDOUT' })), o.idleMs ?? 45_000);
      };
      bump();
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        bump();
        for (const e of parser.push(chunk)) o.onEvent(e);
      });
      res.on('error', (err) => finish(err));
      res.on('end', () => finish(new Error('the event stream ended')));
    };
    const req = https ? httpsRequest(url, opts, onResponse) : httpRequest(url, opts, onResponse);
    req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    req.on('error', (err) => finish(err));
    o.signal.addEventListener('abort', onAbort, { once: true });
    req.end();
  });
}

const unreachable = (client: AdminClient, err: unknown): Error =>
  err instanceof MeshError ? err : new MeshError('UNREACHABLE', `cannot reach the controller at ${client.base} (${(err as { code?: string }).code ?? (err as Error).message})`, { cause: err });

/** Follows the event stream until `o.signal` aborts; never rejects (errors go to onLink). */
export async function followEvents(client: AdminClient, o: FollowOptions): Promise<void> {
  const parser = new SseParser();
  let attempt = 0;
  while (!o.signal.aborted) {
    try {
      await streamOnce(client, { ...o, onEvent: (e) => { attempt = 0; o.onEvent(e); }, onLink: (e) => { if (!e) attempt = 0; o.onLink?.(e); } }, parser, parser.id ?? o.since);
      if (o.signal.aborted) return;
      o.onLink?.(unreachable(client, new Error('the event stream ended')));
    } catch (err) {
      if (o.signal.aborted) return;
      o.onLink?.(unreachable(client, err));
    }
    const wait = backoffDelay(attempt++, Math.random, 250, o.maxDelayMs ?? 5_000);
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, wait);
      o.signal.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
    });
  }
}
