// HOST:PORT parsing for listen and public addresses. Pure.
import { isIP } from 'node:net';
import { invalid } from './errors.ts';
import { assertPort } from './network.ts';

export interface HostPort {
  host: string;
  port: number;
}

/** Parses "host:port", "[v6]:port" or, when `defaultPort` is given, a bare host. */
export function parseHostPort(s: string, what: string, defaultPort?: number): HostPort {
  const v = s.trim();
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(v) ?? /^([^:\s]+)(?::(\d+))?$/.exec(v);
  if (!m || (m[2] === undefined && defaultPort === undefined)) {
    throw invalid(`${what} "${s}" is not HOST:PORT`, `For example: ${what.includes('grpc') ? '0.0.0.0:50051' : '127.0.0.1:8081'}`);
  }
  const port = m[2] === undefined ? defaultPort! : Number(m[2]);
  assertPort(port, `${what} port`);
  assertHost(m[1]!, `${what} host`);
  return { host: m[1]!, port };
}

export const formatHostPort = (h: HostPort): string => (h.host.includes(':') ? `[${h.host}]:${h.port}` : `${h.host}:${h.port}`);

export const MAX_HOST_NAME = 253;
const HOST_LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** True when `host` is an IP literal (v4 or v6, without brackets) or a DNS name of at most 253
 * characters whose labels are 1-63 letters, digits and hyphens (no edge hyphen). */
export function isHost(host: string): boolean {
  if (isIP(host)) return true;
  if (host.length === 0 || host.length > MAX_HOST_NAME) return false;
  const labels = (host.endsWith('.') ? host.slice(0, -1) : host).split('.');
  // A last label of digits only would be a malformed IPv4 address, not a name.
  return labels.every((l) => HOST_LABEL.test(l)) && !/^\d+$/.test(labels[labels.length - 1]!);
}

/** Throws INVALID_ARGUMENT unless `host` passes isHost. */
export function assertHost(host: string, what: string): void {
  if (!isHost(host)) {
    throw invalid(`${what} "${host.length > 80 ? host.slice(0, 80) + '…' : host}" is not an IP address or a DNS name`, 'Give an IPv4 or IPv6 address, or a host name such as vpn.example.com');
  }
}
