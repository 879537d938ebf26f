// Sends one small UDP datagram to a peer's mesh address, so that WireGuard has something to
// carry: it starts a handshake at once (after an endpoint change) or tests a path (a direct retry).
// The peer answers on port 9 (discard) with nothing, or its kernel with ICMP; either way packets
// flow through the tunnel both ways.
import { createSocket } from 'node:dgram';

/** Best effort: never throws. */
export function nudge(address: string): Promise<void> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    const done = () => {
      try {
        s.close();
      } catch {
        /* already closed */
      }
      resolve();
    };
    s.once('error', done);
    s.send(Buffer.from('meshctl-nudge'), 9, address, done);
  });
}
