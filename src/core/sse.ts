// Server-sent events (text/event-stream): framing for the controller, parsing for clients. Pure.
// The admin API's event stream and every client of it (nodes list --watch, the dashboard) use these.

/** One dispatched event: `event` defaults to "message"; `id` is the stream's last event id after it. */
export interface SseEvent {
  event: string;
  data: string;
  id: string;
}

/** One frame: `event:`, `id:` and one `data:` line per line of `data`. `data` undefined: an id-only
 * frame, which moves a client's last event id without dispatching anything. */
export function sseFrame(f: { event?: string; id?: string; data?: string }): string {
  let s = '';
  if (f.event) s += `event: ${oneLine(f.event)}\n`;
  if (f.id !== undefined) s += `id: ${oneLine(f.id)}\n`;
  if (f.data !== undefined) for (const line of f.data.split(/\r\n|\r|\n/)) s += `data: ${line}\n`;
  return s + '\n';
}

/** A comment line (ignored by clients; keeps proxies and dead-connection checks awake). */
export const sseComment = (text: string): string => `: ${oneLine(text)}\n\n`;

const oneLine = (s: string) => s.replace(/[\r\n]/g, ' ');

/**
 * Incremental parser of an event stream, per the HTML standard's rules: feed it chunks as they
 * arrive (split anywhere, even inside a line), get the complete events back. Comments are ignored;
 * a frame without data dispatches nothing but still sets the last event id.
 */
export class SseParser {
  private buf = '';
  private data: string[] = [];
  private event = '';
  private sawData = false;
  /** The last event id seen (an id-only frame sets it too). */
  lastEventId = '';
  private pendingId: string | undefined;

  feed(chunk: string): SseEvent[] {
    this.buf += chunk;
    const out: SseEvent[] = [];
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.buf);
      if (!m) break;
      // A lone \r at the very end may be the first half of \r\n: wait for the next chunk.
      if (m[0] === '\r' && m.index === this.buf.length - 1) break;
      const line = this.buf.slice(0, m.index);
      this.buf = this.buf.slice(m.index + m[0].length);
      const ev = this.line(line);
      if (ev) out.push(ev);
    }
    return out;
  }

  private line(line: string): SseEvent | undefined {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') {
      this.data.push(value);
      this.sawData = true;
    } else if (field === 'event') this.event = value;
    else if (field === 'id' && !value.includes('\0')) this.pendingId = value;
    return undefined;
  }

  private dispatch(): SseEvent | undefined {
    if (this.pendingId !== undefined) this.lastEventId = this.pendingId;
    this.pendingId = undefined;
    const ev = this.sawData ? { event: this.event || 'message', data: this.data.join('\n'), id: this.lastEventId } : undefined;
    this.data = [];
    this.event = '';
    this.sawData = false;
    return ev;
  }
}
