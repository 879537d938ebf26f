// The marked block of mesh names in a hosts file (/etc/hosts by default). Only the lines between
// our own markers ever change; the file is replaced atomically (temp file, fsync, rename) with
// its mode kept, or, where it cannot be replaced (a bind-mounted /etc/hosts, as in containers),
// rewritten in place.
import { readFile, stat, writeFile } from 'node:fs/promises';
import { withHostsBlock, hostsBlockOf } from '../core/dns-hosts.ts';
import { writeFileDurably } from './durable-file.ts';

export const DEFAULT_HOSTS_FILE = '/etc/hosts';

/** Sets the block marked `tag` to `lines` (null removes it). Returns whether the file changed. */
export async function setHostsBlock(path: string, tag: string, lines: readonly string[] | null): Promise<boolean> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    if (lines === null) return false;
    text = '';
  }
  const next = withHostsBlock(text, tag, lines);
  if (next === text) return false;
  const mode = await stat(path).then((s) => s.mode & 0o7777, () => 0o644);
  try {
    await writeFileDurably(path, Buffer.from(next), mode);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EBUSY' && code !== 'EXDEV' && code !== 'EPERM') throw err;
    await writeFile(path, next);
  }
  return true;
}

/** The lines of the block marked `tag`, or null when there is none (or no file). */
export async function readHostsBlock(path: string, tag: string): Promise<string[] | null> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return hostsBlockOf(text, tag);
}
