// Parsers for what `wg show NAME dump` and `ip -j addr show dev NAME` print. Pure text in, typed state out.
import { MeshError } from '../core/errors.ts';
import type { WgPeerState } from '../core/wg-diff.ts';

export interface WgDump {
  publicKey: string | null;
  listenPort: number;
  peers: WgPeerState[];
}

export interface LinkInfo {
  addresses: string[];
  up: boolean;
  mtu: number;
}

const none = (s: string | undefined) => (s === undefined || s === '(none)' || s === '' ? null : s);
const num = (s: string | undefined) => {
  const n = Number(s);
  return Number.isFinite(n) ? n : 0;
};

/** Parses `wg show NAME dump`: the interface line, then one tab-separated line per peer. */
export function parseWgDump(text: string): WgDump {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const head = lines[0]?.split('\t');
  if (head === undefined || head.length < 4) {
    throw new MeshError('COMMAND_FAILED', `reading wg dump: unexpected output ${JSON.stringify(text.slice(0, 200))}`);
  }
  const peers = lines.slice(1).map((l): WgPeerState => {
    const f = l.split('\t');
    if (f.length < 8) throw new MeshError('COMMAND_FAILED', `reading wg dump: unexpected peer line ${JSON.stringify(l)}`);
    const allowed = none(f[3]);
    return {
      publicKey: f[0]!,
      endpoint: none(f[2]),
      allowedIps: allowed === null ? [] : allowed.split(','),
      latestHandshake: num(f[4]),
      rxBytes: num(f[5]),
      txBytes: num(f[6]),
      keepalive: f[7] === 'off' ? 0 : num(f[7]),
    };
  });
  return { publicKey: none(head[1]), listenPort: num(head[2]), peers };
}

interface IpJsonLink {
  flags?: string[];
  mtu?: number;
  addr_info?: { family?: string; local?: string; prefixlen?: number }[];
}

/** Parses `ip -j addr show dev NAME`: IPv4 addresses ("a.b.c.d/n"), UP flag, MTU. */
export function parseIpAddrJson(text: string): LinkInfo {
  let links: IpJsonLink[];
  try {
    links = JSON.parse(text) as IpJsonLink[];
  } catch (cause) {
    throw new MeshError('COMMAND_FAILED', `reading ip addr: output is not JSON: ${JSON.stringify(text.slice(0, 200))}`, { cause });
  }
  const link = links[0] ?? {};
  const addresses = (link.addr_info ?? [])
    .filter((a) => a.family === 'inet' && a.local !== undefined)
    .map((a) => `${a.local}/${a.prefixlen ?? 32}`);
  return { addresses, up: (link.flags ?? []).includes('UP'), mtu: link.mtu ?? 0 };
}
