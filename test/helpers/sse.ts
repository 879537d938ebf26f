// Test helper: opens the admin event stream of a test controller (HTTPS trusting its CA) and
// collects the events, with waits that have deadlines.
import { request as httpsRequest } from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { SseParser, type SseEvent } from '../../src/core/sse.ts';
import type { TestController } from './controller.ts';

export interface EventStream {
  status: number;
  headers: IncomingMessage['headers'];
  /** Every event so far, in order. */
  events: SseEvent[];
  /** Every raw chunk so far, joined (comments included). */
  raw: () => string;
  /** The stream's last event id (id-only frames included). */
  lastEventId: () => string;
  /** Resolves with the first event (at or after index `from`) matching `pred`; rejects after `ms`. */
  next(pred: (e: SseEvent) => boolean, ms?: number, from?: number): Promise<SseEvent>;
  /** Resolves once the raw text matches `re`; rejects after `ms`. */
  waitRaw(re: RegExp, ms?: number): Promise<void>;
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  close(): void;
  req: ClientRequest;
  res: IncomingMessage;
}

export function openEvents(tc: TestController, opts: { query?: string; headers?: Record<string, string>; token?: string | null } = {}): Promise<EventStream> {
  const ca = readFileSync(join(tc.dataDir, 'tls', 'ca.crt'), 'utf8');
  const url = new URL(`${tc.apiUrl}/api/v1/events${opts.query ? `?${opts.query}` : ''}`);
  const token = opts.token === undefined ? tc.token : opts.token;
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ca, checkServerIdentity: () => undefined, agent: false, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(opts.headers ?? {}) } }, (res) => {
      const parser = new SseParser();
      const events: SseEvent[] = [];
      let raw = '';
      const waiters = new Set<() => void>();
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        raw += d;
        events.push(...parser.feed(d));
        for (const w of [...waiters]) w();
      });
      const ended = new Promise<void>((r) => {
        res.on('end', r);
        res.on('close', r);
        res.on('error', () => r());
      });
      const wait = <T>(check: () => T | undefined, ms: number, what: string): Promise<T> =>
        new Promise<T>((ok, fail) => {
          const tryNow = () => {
            const v = check();
            if (v !== undefined) {
              clearTimeout(timer);
              waiters.delete(tryNow);
              ok(v);
            }
          };
          const timer = setTimeout(() => {
            waiters.delete(tryNow);
            fail(new Error(`no ${what} within ${ms} ms; got events ${JSON.stringify(events.map((e) => e.event))}`));
          }, ms);
          waiters.add(tryNow);
          tryNow();
        });
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        events,
        raw: () => raw,
        lastEventId: () => parser.lastEventId,
        next: (pred, ms = 1000, from = 0) => wait(() => events.slice(from).find(pred), ms, 'matching event'),
        waitRaw: (re, ms = 1000) => wait(() => (re.test(raw) ? true : undefined), ms, `text matching ${re}`).then(() => {}),
        ended,
        close: () => {
          req.destroy();
          res.destroy();
        },
        req,
        res,
      });
    });
    req.on('error', reject);
    req.end();
  });
}
