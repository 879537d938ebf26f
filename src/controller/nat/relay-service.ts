// RelayService.Attach on the controller: a standalone relay (`meshctl relay`) proves it holds the
// relay secret, says who it is, where nodes reach it and which pairs it still holds; from then on
// it is one of the pool's relays, opening and closing pairs on command, until its stream ends.
import * as grpc from '@grpc/grpc-js';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import { MeshError } from '../../core/errors.ts';
import { isHost } from '../../core/address.ts';
import { toGrpcError } from '../../rpc/errors.ts';
import type { RelayAssignment, RelayBackend, RelayPairSpec, RelayPool } from './relay-pool.ts';

/** RelayPair on the wire. */
export interface WirePair {
  id: string;
  network: string;
  a: string;
  b: string;
  portA: number;
  portB: number;
  expectA: string;
  expectB: string;
}

interface Report {
  hello?: { name: string; host: string; pairs: WirePair[] } | null;
  seq: number;
  pair?: WirePair | null;
  error: string;
}

interface Command {
  seq: number;
  op: 'open' | 'close';
  pair: Partial<WirePair>;
}

/** How long a relay gets to say hello, and to answer an open. */
const HELLO_MS = 10_000;
const OPEN_MS = 10_000;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

export const toWire = (s: RelayPairSpec, ports: readonly [number, number] = [0, 0]): WirePair => ({
  id: s.id, network: s.network, a: s.a, b: s.b, portA: ports[0], portB: ports[1], expectA: s.expectA ?? '', expectB: s.expectB ?? '',
});

export const fromWire = (p: WirePair): RelayPairSpec & { ports: [number, number] } => ({
  id: p.id, network: p.network, a: p.a, b: p.b, expectA: p.expectA || null, expectB: p.expectB || null, ports: [p.portA, p.portB],
});

const sha = (s: string) => createHash('sha256').update(s).digest();

class RemoteRelay implements RelayBackend {
  readonly name: string;
  readonly host: string;
  private seq = 0;
  private readonly pending = new Map<number, { resolve: (p: [number, number]) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private readonly call: grpc.ServerDuplexStream<Report, Command>;

  constructor(name: string, host: string, call: grpc.ServerDuplexStream<Report, Command>) {
    this.name = name;
    this.host = host;
    this.call = call;
  }

  open(spec: RelayPairSpec): Promise<[number, number]> {
    const seq = ++this.seq;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(seq);
        reject(new Error(`relay ${this.name} did not answer in ${OPEN_MS} ms`));
      }, OPEN_MS);
      this.pending.set(seq, { resolve, reject, timer });
      this.call.write({ seq, op: 'open', pair: toWire(spec) });
    });
  }

  close(id: string): void {
    this.call.write({ seq: ++this.seq, op: 'close', pair: { id } });
  }

  end(): void {
    this.call.end();
  }

  answer(r: Report): void {
    const p = this.pending.get(r.seq);
    if (!p) return;
    this.pending.delete(r.seq);
    clearTimeout(p.timer);
    if (r.error || !r.pair) p.reject(new Error(`relay ${this.name}: ${r.error || 'no pair in the answer'}`));
    else p.resolve([r.pair.portA, r.pair.portB]);
  }

  fail(why: string): void {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new Error(`relay ${this.name}: ${why}`));
    }
    this.pending.clear();
  }
}

/** The RelayService implementation: relays that present `secret` join `pool`. */
export function relayServiceHandlers(pool: RelayPool, secret: () => string | null, log: Logger): grpc.UntypedServiceImplementation {
  return {
    Attach: (call: grpc.ServerDuplexStream<Report, Command>) => {
      const refuse = (err: MeshError) => {
        call.emit('error', toGrpcError(err));
        call.end();
      };
      const given = call.metadata.get('authorization')[0]?.toString().replace(/^Bearer /, '') ?? '';
      const want = secret();
      if (want === null || !timingSafeEqual(sha(given), sha(want))) {
        log.warn({ peer: call.getPeer() }, 'a relay presented a wrong secret');
        refuse(new MeshError('UNAUTHENTICATED', 'the relay secret is not this controller\'s', { hint: 'Use the content of <data-dir>/relay.token of this controller' }));
        return;
      }
      let relay: RemoteRelay | undefined;
      const helloTimer = setTimeout(() => refuse(new MeshError('INVALID_ARGUMENT', 'no hello from the relay')), HELLO_MS);
      call.on('data', (r: Report) => {
        if (relay) {
          relay.answer(r);
          return;
        }
        clearTimeout(helloTimer);
        const h = r.hello;
        if (!h || !NAME.test(h.name) || !isHost(h.host)) {
          refuse(new MeshError('INVALID_ARGUMENT', 'the relay\'s hello needs a name (letters, digits, ".", "_", "-") and a host nodes can reach'));
          return;
        }
        relay = new RemoteRelay(h.name, h.host, call);
        const held: RelayAssignment[] = (h.pairs ?? []).map((p) => ({ ...fromWire(p), relay: h.name, host: h.host }));
        pool.attach(relay, held);
      });
      const end = () => {
        clearTimeout(helloTimer);
        if (!relay) return;
        const r = relay;
        relay = undefined;
        r.fail('its stream ended');
        pool.detach(r);
      };
      call.on('end', () => {
        end();
        call.end();
      });
      call.on('error', end);
      call.on('cancelled', end);
      call.on('close', end);
    },
  };
}
