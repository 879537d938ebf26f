// The admin event stream's hub: every change the store fans out and every node status change,
// serialised once into a server-sent-events frame with a cursor, kept in a bounded history for
// resuming, and written to every subscriber without ever waiting for one. A subscriber whose
// unsent output passes a bound is dropped with a reset (it reconnects and takes a snapshot).
import { randomBytes } from 'node:crypto';
import { sseComment, sseFrame } from '../../core/sse.ts';

/** Where a subscriber's frames go (an HTTP response, in the API). */
export interface EventSink {
  write(chunk: string): void;
  /** Bytes written but not yet handed to the network. */
  buffered(): number;
  end(): void;
}

export type EventName = 'change' | 'status' | 'reset';

export interface EventLogOptions {
  /** Frames kept for resuming (default 4096). */
  history?: number;
  /** Unsent bytes past which a subscriber is dropped (default 1 MiB). */
  maxBuffered?: number;
  /** Interval of the `: ping` comment (default 15 s; 0: none). */
  pingMs?: number;
  /** This process's cursor prefix (default: random): cursors of another run are unknown. */
  epoch?: string;
}

interface Entry {
  seq: number;
  network: string;
  frame: string;
}

interface Sub {
  sink: EventSink;
  network: string | undefined;
}

export const PING_MS = 15_000;

export class EventLog {
  readonly epoch: string;
  private seq = 0;
  private readonly ring: Entry[] = [];
  private readonly history: number;
  private readonly maxBuffered: number;
  private readonly pingMs: number;
  private readonly subs = new Set<Sub>();
  private timer: NodeJS.Timeout | undefined;
  /** Subscribers dropped for not reading (for tests and logs). */
  dropped = 0;

  constructor(opts: EventLogOptions = {}) {
    this.epoch = opts.epoch ?? randomBytes(6).toString('hex');
    this.history = opts.history ?? 4096;
    this.maxBuffered = opts.maxBuffered ?? 1 << 20;
    this.pingMs = opts.pingMs ?? PING_MS;
  }

  /** Open subscriptions. */
  get size(): number {
    return this.subs.size;
  }

  /** The cursor of the latest event: resuming from it replays nothing. */
  cursor(): string {
    return `${this.epoch}-${this.seq}`;
  }

  /** Serialises `data` once and sends it to every subscriber of `network` (or of every network). */
  publish(event: EventName, network: string, data: unknown): void {
    const seq = ++this.seq;
    const frame = sseFrame({ event, id: `${this.epoch}-${seq}`, data: JSON.stringify(data) });
    this.ring.push({ seq, network, frame });
    if (this.ring.length > this.history) this.ring.shift();
    for (const sub of this.subs) if (sub.network === undefined || sub.network === network) this.deliver(sub, frame);
  }

  /**
   * Adds a subscriber. `since` (a cursor this process handed out, still in the history) replays
   * what came after it; an unknown or too old one sends `reset` first; none sends only the current
   * cursor (an id-only frame). Returns the unsubscribe, which is safe to call twice.
   */
  subscribe(sink: EventSink, opts: { network?: string; since?: string } = {}): () => void {
    const sub: Sub = { sink, network: opts.network };
    if (opts.since !== undefined && opts.since !== '') {
      const from = this.resumable(opts.since);
      if (from === undefined) sink.write(this.resetFrame());
      else {
        for (const e of this.ring) if (e.seq > from && (sub.network === undefined || e.network === sub.network)) sink.write(e.frame);
        sink.write(sseFrame({ id: this.cursor() }));
      }
    } else sink.write(sseFrame({ id: this.cursor() }));
    this.subs.add(sub);
    this.startPing();
    return () => this.remove(sub);
  }

  /** The sequence number after which to replay, or undefined when `since` cannot be resumed. */
  private resumable(since: string): number | undefined {
    const m = /^([0-9a-f]+)-(\d{1,15})$/.exec(since);
    if (!m || m[1] !== this.epoch) return undefined;
    const n = Number(m[2]);
    const oldest = this.ring[0]?.seq ?? this.seq + 1;
    if (n > this.seq || n < oldest - 1) return undefined;
    return n;
  }

  private resetFrame(): string {
    return sseFrame({ event: 'reset', id: this.cursor(), data: '{}' });
  }

  private deliver(sub: Sub, frame: string): void {
    try {
      sub.sink.write(frame);
    } catch {
      // A sink that cannot take a frame is gone: it must not keep the others from theirs.
      this.remove(sub);
      return;
    }
    if (sub.sink.buffered() > this.maxBuffered) {
      // Never wait for a slow reader: it is told to start over, and goes.
      this.dropped++;
      this.remove(sub);
      sub.sink.write(this.resetFrame());
      sub.sink.end();
    }
  }

  private remove(sub: Sub): void {
    this.subs.delete(sub);
    if (this.subs.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private startPing(): void {
    if (this.timer || this.pingMs <= 0) return;
    const ping = sseComment('ping');
    this.timer = setInterval(() => {
      for (const sub of this.subs) this.deliver(sub, ping);
    }, this.pingMs);
    this.timer.unref();
  }

  /** Ends every subscription (shutdown). */
  close(): void {
    for (const sub of [...this.subs]) {
      this.remove(sub);
      sub.sink.end();
    }
  }
}
