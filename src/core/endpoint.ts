// Node endpoints: what a node states, else the address the controller saw it come from, with
// the node's WireGuard listen port. Pure.
import { isIP } from 'node:net';
import { parseHostPort, formatHostPort } from './address.ts';

/** Normalises a stated "--endpoint HOST[:PORT]" (port defaults to the listen port). HOST is an IP
 * literal ("[v6]" with a port) or a DNS name of at most 253 characters; anything else is refused. */
export function statedEndpoint(value: string, listenPort: number): string {
  return formatHostPort(parseHostPort(value, 'endpoint', listenPort));
}

/** The caller's IP address from grpc-js getPeer(): "1.2.3.4:5678", "ipv4:…", "[::1]:5678", and
 * also an IPv6 address without brackets ("::1:5678", as grpc-js reports dual-stack listeners'
 * peers). IPv4-mapped IPv6 addresses come back as IPv4. Null when it is not an address. */
export function peerHost(peer: string): string | null {
  const s = peer.replace(/^ipv[46]:/, '');
  const m = /^\[([^\]]+)\]:\d+$/.exec(s) ?? /^(.+):\d+$/.exec(s);
  if (!m) return null;
  const host = m[1]!.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
  return isIP(host) ? host.toLowerCase() : null;
}

/** The endpoint for a node seen at `peer` (see peerHost). */
export function observedEndpoint(peer: string, listenPort: number): string | null {
  const host = peerHost(peer);
  return host === null ? null : formatHostPort({ host, port: listenPort });
}
