// Node endpoints: what a node states, else the address the controller saw it come from, with
// the node's WireGuard listen port. Pure.
import { isIP } from 'node:net';
import { invalid } from './errors.ts';
import { parseHostPort, formatHostPort } from './address.ts';

/** Normalises a stated "--endpoint HOST[:PORT]" (port defaults to the listen port). */
export function statedEndpoint(value: string, listenPort: number): string {
  const hp = parseHostPort(value, 'endpoint', listenPort);
  if (!/^[A-Za-z0-9.:-]+$/.test(hp.host)) throw invalid(`endpoint host "${hp.host}" is not a host name or address`);
  return formatHostPort(hp);
}

/** The endpoint for a node seen at `peer` (grpc-js getPeer(): "1.2.3.4:5678", "ipv4:…", "[::1]:5678"). */
export function observedEndpoint(peer: string, listenPort: number): string | null {
  const s = peer.replace(/^ipv[46]:/, '');
  const m = /^\[([^\]]+)\]:\d+$/.exec(s) ?? /^([^:]+):\d+$/.exec(s);
  if (!m) return null;
  const host = m[1]!.replace(/^::ffff:/, '');
  if (!isIP(host)) return null;
  return formatHostPort({ host, port: listenPort });
}
