// Whether a UDP port is free on this host (WireGuard listen ports).
import { createSocket } from 'node:dgram';

/** True when nothing on this host (this network namespace) holds UDP `port`. */
export function udpPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket({ type: 'udp4', reuseAddr: false });
    s.once('error', () => {
      s.close();
      resolve(false);
    });
    s.bind({ port, address: '0.0.0.0', exclusive: true }, () => s.close(() => resolve(true)));
  });
}
