// The ciphertext relay: forwards WireGuard's UDP datagrams between the two nodes of a pair, as
// they are. It holds no keys and cannot read the traffic. Each pair gets two ports of its own,
// one per node; a datagram that arrives on one node's port is sent on from the other's port to
// the address the other node last sent from. Only datagrams shaped like WireGuard messages pass,
// only from the node's expected host, only from the source the leg has locked to, and at no more
// than a byte rate. Imports core only.
import dgram from 'node:dgram';
import { wireGuardType, WG_HANDSHAKE_INITIATION } from '../core/wg-packet.ts';

export interface RelayOptions {
  /** Address the relay's sockets bind to (pair ports are chosen by the OS on the same address). */
  host: string;
  /** The relay's well-known port: answers probes with the address it saw them come from. */
  port: number;
  /** Per leg (one direction of one pair). Default 128 MiB/s (~1 Gbit/s). */
  bytesPerSecond?: number;
  /** Bucket size; default 4 MiB. */
  burstBytes?: number;
  /** A locked source silent this long may be replaced by a new one (a NAT that lost its mapping). */
  relockAfterMs?: number;
  log?: (msg: string) => void;
}

export interface LegStats {
  forwarded: number;
  forwardedBytes: number;
  dropped: { notWireGuard: number; wrongSource: number; rateLimited: number; noPeerYet: number };
  locked: string | null;
}

export interface RelayPair {
  id: string;
  /** The port node A sends to, and the port node B sends to. */
  ports: [number, number];
  stats(): [LegStats, LegStats];
}

/** The first line a probe must carry, and the answer's prefix. */
export const PROBE = 'meshctl-relay-probe';

class Leg {
  readonly socket: dgram.Socket;
  readonly expectHost: string | null;
  addr: string | null = null;
  port = 0;
  lastRx = 0;
  tokens: number;
  refilled = Date.now();
  readonly stats: LegStats = { forwarded: 0, forwardedBytes: 0, dropped: { notWireGuard: 0, wrongSource: 0, rateLimited: 0, noPeerYet: 0 }, locked: null };

  constructor(socket: dgram.Socket, expectHost: string | null, burst: number) {
    this.socket = socket;
    this.expectHost = expectHost;
    this.tokens = burst;
  }
}

const bindSocket = (host: string, port: number): Promise<dgram.Socket> =>
  new Promise((resolve, reject) => {
    const s = dgram.createSocket({ type: host.includes(':') ? 'udp6' : 'udp4', recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
    s.once('error', reject);
    s.bind(port, host, () => {
      s.off('error', reject);
      resolve(s);
    });
  });

export class Relay {
  private readonly opts: Required<Omit<RelayOptions, 'log'>> & Pick<RelayOptions, 'log'>;
  private main: dgram.Socket | null = null;
  private readonly pairs = new Map<string, { pair: RelayPair; legs: [Leg, Leg] }>();

  constructor(opts: RelayOptions) {
    this.opts = { bytesPerSecond: 128 << 20, burstBytes: 4 << 20, relockAfterMs: 2000, ...opts };
  }

  /** Binds the well-known port. Resolves with it (the OS's choice when 0). */
  async start(): Promise<number> {
    this.main = await bindSocket(this.opts.host, this.opts.port);
    this.main.on('message', (msg, from) => {
      if (msg.subarray(0, PROBE.length).toString() === PROBE) this.main?.send(`${PROBE} ${from.address}:${from.port}`, from.port, from.address);
    });
    this.main.on('error', (err) => this.opts.log?.(`relay socket: ${err.message}`));
    return this.main.address().port;
  }

  get port(): number {
    return this.main?.address().port ?? 0;
  }

  /** Opens a pair: two ports, each locked to the first WireGuard datagram from its node's expected
   * host (any, when null). `ports`: the ones to take again (a restart), where they are still free. */
  async open(id: string, expectA: string | null, expectB: string | null, ports?: readonly [number, number]): Promise<RelayPair> {
    const existing = this.pairs.get(id);
    if (existing) return existing.pair;
    const bindLeg = (port: number) => (port ? bindSocket(this.opts.host, port).catch(() => bindSocket(this.opts.host, 0)) : bindSocket(this.opts.host, 0));
    const a = new Leg(await bindLeg(ports?.[0] ?? 0), expectA, this.opts.burstBytes);
    let b: Leg;
    try {
      b = new Leg(await bindLeg(ports?.[1] ?? 0), expectB, this.opts.burstBytes);
    } catch (err) {
      a.socket.close();
      throw err;
    }
    a.socket.on('message', (msg, from) => this.onMessage(a, b, msg, from));
    b.socket.on('message', (msg, from) => this.onMessage(b, a, msg, from));
    for (const l of [a, b]) l.socket.on('error', (err) => this.opts.log?.(`relay pair ${id}: ${err.message}`));
    const pair: RelayPair = { id, ports: [a.socket.address().port, b.socket.address().port], stats: () => [{ ...a.stats }, { ...b.stats }] };
    this.pairs.set(id, { pair, legs: [a, b] });
    this.opts.log?.(`relay pair ${id}: ports ${pair.ports[0]} and ${pair.ports[1]}`);
    return pair;
  }

  /** Closes a pair's ports. */
  close(id: string): void {
    const p = this.pairs.get(id);
    if (!p) return;
    this.pairs.delete(id);
    for (const l of p.legs) l.socket.close();
  }

  list(): RelayPair[] {
    return [...this.pairs.values()].map((p) => p.pair);
  }

  async stop(): Promise<void> {
    for (const id of [...this.pairs.keys()]) this.close(id);
    const m = this.main;
    this.main = null;
    if (m) await new Promise<void>((resolve) => m.close(() => resolve()));
  }

  private onMessage(from: Leg, to: Leg, msg: Buffer, src: dgram.RemoteInfo): void {
    const type = wireGuardType(msg);
    if (type === 0) {
      from.stats.dropped.notWireGuard++;
      return;
    }
    if (from.expectHost !== null && src.address !== from.expectHost) {
      from.stats.dropped.wrongSource++;
      return;
    }
    const now = Date.now();
    if (from.addr !== src.address || from.port !== src.port) {
      // A new source: the first one, or the same node after its NAT mapped it anew (a router
      // restart). Taken only once the locked one has gone quiet, or for a handshake initiation.
      if (from.addr !== null && now - from.lastRx < this.opts.relockAfterMs && type !== WG_HANDSHAKE_INITIATION) {
        from.stats.dropped.wrongSource++;
        return;
      }
      from.addr = src.address;
      from.port = src.port;
      from.stats.locked = `${src.address}:${src.port}`;
    }
    from.lastRx = now;
    from.tokens = Math.min(this.opts.burstBytes, from.tokens + ((now - from.refilled) * this.opts.bytesPerSecond) / 1000);
    from.refilled = now;
    if (from.tokens < msg.length) {
      from.stats.dropped.rateLimited++;
      return;
    }
    from.tokens -= msg.length;
    if (to.addr === null) {
      from.stats.dropped.noPeerYet++;
      return;
    }
    from.stats.forwarded++;
    from.stats.forwardedBytes += msg.length;
    to.socket.send(msg, to.port, to.addr);
  }
}
