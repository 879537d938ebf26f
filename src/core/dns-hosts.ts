// Hosts-file text: the controller's CoreDNS-ready file per network, and the marked block the
// agent keeps in a host's hosts file. Pure.
import type { Zone } from './dns-zone.ts';
import { zoneAddresses } from './dns-zone.ts';

/** One line per name ("address<TAB>name"), names sorted. */
export const hostsLines = (entries: readonly { name: string; address: string }[]): string[] => entries.map((e) => `${e.address}\t${e.name}`);

/** The content of `<data-dir>/dns/<domain>.hosts` (CNAMEs flattened to their addresses: the hosts
 * plugin knows no CNAME). */
export function hostsFileOf(z: Zone): string {
  return [`# meshctl: names of ${z.domain} (serial ${z.serial}); written by the controller, do not edit`, ...hostsLines(zoneAddresses(z))].join('\n') + '\n';
}

/** A Corefile server block that answers for `domain` from the hosts file at `path`. */
export function corefileStanza(domain: string, path: string): string {
  return [
    `${domain}:53 {`,
    `    hosts ${path} {`,
    '        ttl 5',
    '        reload 2s',
    '    }',
    '    errors',
    '}',
  ].join('\n') + '\n';
}

const begin = (tag: string) => `# BEGIN meshctl ${tag}`;
const end = (tag: string) => `# END meshctl ${tag}`;

/** `text` with the block marked `tag` set to `lines` (appended when absent; removed when `lines`
 * is null). Only the lines between our own markers change; everything else stays byte for byte. */
export function withHostsBlock(text: string, tag: string, lines: readonly string[] | null): string {
  const all = text === '' ? [] : text.replace(/\n$/, '').split('\n');
  const b = all.indexOf(begin(tag));
  const e = b < 0 ? -1 : all.indexOf(end(tag), b);
  const block = lines === null ? [] : [begin(tag), ...lines, end(tag)];
  let out: string[];
  if (b >= 0 && e >= 0) out = [...all.slice(0, b), ...block, ...all.slice(e + 1)];
  else if (b >= 0) out = [...all.slice(0, b), ...block]; // an unterminated block of ours runs to the end
  else out = [...all, ...block];
  return out.length ? out.join('\n') + '\n' : '';
}

/** The lines of the block marked `tag`, or null when there is none. */
export function hostsBlockOf(text: string, tag: string): string[] | null {
  const all = text.split('\n');
  const b = all.indexOf(begin(tag));
  if (b < 0) return null;
  const e = all.indexOf(end(tag), b);
  return all.slice(b + 1, e < 0 ? undefined : e).filter((l) => l !== '');
}
