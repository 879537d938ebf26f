// The DNS responder's sockets: UDP and TCP on port 53 of each address it is given (the node's
// mesh addresses). Answers from memory (the zones), so it keeps answering with the controller
// down. Bounded: TCP connections are capped, idle ones closed, a message is at most 64 KiB.
import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server, type Socket as TcpSocket } from 'node:net';
import { ZoneSet } from '../../core/dns-answer.ts';
import { AnswerCache, newCounters, respond, type RespondCounters } from './responder.ts';

export const DNS_PORT = 53;
const MAX_TCP_CONNECTIONS = 128;
const TCP_IDLE_MS = 10_000;

interface Listener {
  udp: Socket;
  tcp: Server;
}

export class DnsServer {
  readonly zones = new ZoneSet();
  readonly counters: RespondCounters = newCounters();
  private readonly cache = new AnswerCache();
  private readonly listeners = new Map<string, Listener>();
  private readonly conns = new Set<TcpSocket>();
  private readonly port: number;
  private readonly log: ((m: string) => void) | undefined;

  constructor(opts: { port?: number; log?: (m: string) => void } = {}) {
    this.port = opts.port ?? DNS_PORT;
    this.log = opts.log;
  }

  /** The addresses it answers on now. */
  get addresses(): string[] {
    return [...this.listeners.keys()];
  }

  /** Starts answering on `address` (idempotent). Rejects when it cannot bind (the address is
   * not up yet, or the port is taken); the caller tries again on its next apply. */
  async listen(address: string): Promise<void> {
    if (this.listeners.has(address)) return;
    const udp = createSocket({ type: 'udp4' });
    udp.on('message', (msg, rinfo) => {
      const out = respond(this.zones, msg, true, this.counters, this.cache);
      if (out) udp.send(out, rinfo.port, rinfo.address, () => {});
    });
    const tcp = createServer((c) => this.serveTcp(c));
    tcp.maxConnections = MAX_TCP_CONNECTIONS;
    try {
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind({ address, port: this.port, exclusive: true }, () => {
          udp.off('error', reject);
          resolve();
        });
      });
      udp.on('error', (err) => this.log?.(`dns: udp ${address}: ${err.message}`));
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen({ host: address, port: this.port, exclusive: true }, () => {
          tcp.off('error', reject);
          resolve();
        });
      });
      tcp.on('error', (err) => this.log?.(`dns: tcp ${address}: ${err.message}`));
    } catch (err) {
      try { udp.close(); } catch { /* not bound */ }
      tcp.close();
      throw err;
    }
    this.listeners.set(address, { udp, tcp });
    this.log?.(`dns: answering on ${address}:${this.port} (udp, tcp)`);
  }

  /** Stops answering on `address`. */
  async unlisten(address: string): Promise<void> {
    const l = this.listeners.get(address);
    if (!l) return;
    this.listeners.delete(address);
    try { l.udp.close(); } catch { /* already closed */ }
    await new Promise<void>((resolve) => l.tcp.close(() => resolve()));
    for (const c of this.conns) if (c.localAddress === address) c.destroy();
  }

  private serveTcp(c: TcpSocket): void {
    this.conns.add(c);
    c.setTimeout(TCP_IDLE_MS, () => c.destroy());
    c.on('close', () => this.conns.delete(c));
    c.on('error', () => c.destroy());
    let buf = Buffer.alloc(0);
    c.on('data', (chunk) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0);
        if (buf.length < 2 + len) break;
        const msg = buf.subarray(2, 2 + len);
        buf = buf.subarray(2 + len);
        const out = respond(this.zones, msg, false, this.counters, this.cache);
        if (!out) {
          // Junk on a stream: the framing cannot be trusted any more.
          c.destroy();
          return;
        }
        const framed = Buffer.allocUnsafe(2 + out.length);
        framed.writeUInt16BE(out.length, 0);
        out.copy(framed, 2);
        c.write(framed);
      }
    });
  }

  async close(): Promise<void> {
    for (const a of this.addresses) await this.unlisten(a);
    for (const c of this.conns) c.destroy();
  }
}
