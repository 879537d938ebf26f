// Crash-safe whole-file replacement: write a temp file, fsync it, rename over the target,
// fsync the directory. After it resolves the new image survives power loss; a crash at any
// point leaves either the old image or the new one, never a torn file.
import { open, rename, unlink, readdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

let seq = 0;

export async function writeFileDurably(path: string, data: Uint8Array, mode = 0o600): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${seq++}`;
  const fh = await open(tmp, 'w', mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
  const dir = await open(dirname(path), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/** Replaces `path` atomically (temp file, rename) without waiting for the disk: for files that are
 * derived data, rewritten whenever they might be stale, where readers must never see a torn
 * file but a crash may lose the latest image. */
export async function replaceFile(path: string, data: Uint8Array, mode = 0o644): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${seq++}`;
  await writeFile(tmp, data, { mode });
  try {
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
}

/** Removes temp files a crashed writer left beside `path`. */
export async function removeStaleTemps(path: string): Promise<void> {
  const prefix = `${basename(path)}.tmp-`;
  for (const f of await readdir(dirname(path))) {
    if (f.startsWith(prefix)) await unlink(join(dirname(path), f)).catch(() => {});
  }
}
