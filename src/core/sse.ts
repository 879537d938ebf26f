// A server-sent events parser (the text/event-stream format): bytes in as they come, whole
// events out. Pure: the caller owns the connection.

export interface SseEvent {
  /** `event:` (default "message"). */
  event: string;
  data: string;
  /** The last `id:` seen so far on the stream (it carries over to later events), if any. */
  id?: string;
}

/** Feed it chunks with push(); it returns the events each chunk completed. Comments (": ping") are skipped. */
export class SseParser {
  private buf = '';
  private event = '';
  private data: string[] = [];
  private lastId: string | undefined;

  push(chunk: string): SseEvent[] {
    this.buf += chunk;
    const out: SseEvent[] = [];
    let nl: number;
    while ((nl = this.buf.search(/\r\n|\r|\n/)) >= 0) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + (this.buf.startsWith('\r\n', nl) ? 2 : 1));
      if (line === '') {
        if (this.data.length) out.push({ event: this.event || 'message', data: this.data.join('\n'), ...(this.lastId !== undefined ? { id: this.lastId } : {}) });
        this.event = '';
        this.data = [];
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') this.event = value;
      else if (field === 'data') this.data.push(value);
      else if (field === 'id' && !value.includes('\0')) this.lastId = value;
    }
    return out;
  }

  /** The last event id seen (to resume with Last-Event-ID). */
  get id(): string | undefined {
    return this.lastId;
  }
}
