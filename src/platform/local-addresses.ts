// The node's own IPv4 addresses, for LAN candidates: what peers behind the same NAT can reach it
// at without hairpinning through the router. Read with `ip -j -4 addr show` through the runner.
import type { Runner } from './runner.ts';

interface IpLink {
  ifname?: string;
  flags?: string[];
  link_type?: string;
  addr_info?: { family?: string; local?: string; scope?: string }[];
}

/** Parses `ip -j -4 addr show`: global IPv4 addresses of links that are up, except loopback and `exclude`. */
export function parseLocalAddresses(text: string, exclude: readonly string[]): string[] {
  let links: IpLink[];
  try {
    links = JSON.parse(text) as IpLink[];
  } catch {
    return [];
  }
  return links
    .filter((l) => l.ifname && l.ifname !== 'lo' && !exclude.includes(l.ifname) && l.link_type !== 'loopback' && (l.flags ?? []).includes('UP'))
    .flatMap((l) => (l.addr_info ?? []).filter((a) => a.family === 'inet' && a.local && (a.scope ?? 'global') === 'global').map((a) => a.local!));
}

/** This host's IPv4 addresses other than on the `exclude` interfaces (the mesh interfaces); [] when unreadable. */
export async function localAddresses(runner: Runner, exclude: readonly string[]): Promise<string[]> {
  const r = await runner.run(['ip', '-j', '-4', 'addr', 'show'], { allowFail: true }).catch(() => null);
  return r && r.exitCode === 0 ? parseLocalAddresses(r.stdout, exclude) : [];
}
