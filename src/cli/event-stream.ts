// Follows the controller's admin event stream (GET /api/v1/events) for the CLI and the dashboard:
// parses it, remembers the last event id, and when the stream drops reconnects with capped,
// jittered backoff, resuming from that id (the controller answers `reset` when it cannot).
import { MeshError } from '../core/errors.ts';
import { backoffDelay } from '../core/backoff.ts';
import { SseParser, type SseEvent } from '../core/sse.ts';
import type { AdminClient } from './admin-client.ts';

/** Typed data of the stream's events (see docs/CLI.md). */
export type { StatusEvent } from '../controller/events/status-tracker.ts';

export interface FollowOptions {
  /** Only events of this network. */
  network?: string;
  /** Resume after this event id. */
  since?: string;
  /** Stops following (the returned promise then resolves). */
  signal: AbortSignal;
  /** Each event, in order; the next is read once this settles. */
  onEvent(e: SseEvent): void | Promise<void>;
  /** The stream is open (again): `reconnected` after a drop. */
  onOpen?(reconnected: boolean): void | Promise<void>;
  /** The stream dropped; the next try comes after `delayMs`. */
  onDrop?(err: MeshError, delayMs: number): void;
  /** No byte for this long (the controller pings every 15 s) counts as a dead connection (default 45 s). */
  idleMs?: number;
  /** Backoff base and cap (default 500 ms, 30 s). */
  backoff?: { baseMs: number; capMs: number };
}

/** Errors a retry cannot fix: the token, the CA, the network name, the request. */
const FATAL = new Set(['UNAUTHENTICATED', 'TLS_PIN_MISMATCH', 'INSECURE_TRANSPORT', 'NOT_FOUND', 'INVALID_ARGUMENT', 'FORBIDDEN']);

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

/**
 * Follows the stream until `signal` aborts (resolves) or an error no retry can fix (rejects with
 * it: a refused token, a wrong CA, an unknown network). Every other failure, before or after the
 * stream opened, is retried; a successful open resets the backoff.
 */
export async function followEvents(client: AdminClient, opts: FollowOptions): Promise<void> {
  let lastId = opts.since ?? '';
  let attempt = 0;
  let opened = false;
  const query = opts.network ? `?network=${encodeURIComponent(opts.network)}` : '';
  while (!opts.signal.aborted) {
    let err: MeshError;
    try {
      await client.resolve();
      const res = await client.stream(`/events${query}`, { headers: lastId ? { 'last-event-id': lastId } : {}, signal: opts.signal });
      await opts.onOpen?.(opened);
      opened = true;
      attempt = 0;
      const parser = new SseParser();
      res.setEncoding('utf8');
      const idle = setInterval(() => {
        if (Date.now() - seen > (opts.idleMs ?? 45_000)) res.destroy(new Error('no data (not even a ping) for too long'));
      }, Math.min(5000, opts.idleMs ?? 45_000));
      let seen = Date.now();
      try {
        for await (const chunk of res) {
          seen = Date.now();
          for (const e of parser.feed(chunk as string)) await opts.onEvent(e);
          if (parser.lastEventId) lastId = parser.lastEventId;
        }
      } finally {
        clearInterval(idle);
      }
      err = new MeshError('UNREACHABLE', 'the controller ended the event stream');
    } catch (e) {
      if (opts.signal.aborted) return;
      if (e instanceof MeshError && FATAL.has(e.code)) throw e;
      err = e instanceof MeshError ? e : new MeshError('UNREACHABLE', `the event stream broke (${(e as Error).message})`, { cause: e });
    }
    if (opts.signal.aborted) return;
    const delay = backoffDelay(attempt++, Math.random, opts.backoff?.baseMs ?? 500, opts.backoff?.capMs ?? 30_000);
    opts.onDrop?.(err, delay);
    await sleep(delay, opts.signal);
  }
}
