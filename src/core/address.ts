// HOST:PORT parsing for listen and public addresses. Pure.
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
  return { host: m[1]!, port };
}

export const formatHostPort = (h: HostPort): string => (h.host.includes(':') ? `[${h.host}]:${h.port}` : `${h.host}:${h.port}`);
