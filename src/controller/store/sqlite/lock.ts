// One owner per data directory: a lock file holding the owner's pid and the start time of that
// process (/proc/<pid>/stat, clock ticks since boot). The lock dies with its process: a lock whose
// pid is not running, or is running a process that started at another time (the pid was reused,
// as when a container's server is pid 1 on every start), is stale and is taken over.
import { readFileSync } from 'node:fs';
import { link, open, readFile, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

async function syncPath(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
import { MeshError } from '../../../core/errors.ts';

/** The start time of process `pid` in clock ticks since boot, or null when it is not running (or
 * there is no /proc). Field 22 of /proc/<pid>/stat, counted after the ")" that ends field 2, since
 * a command name may hold spaces and parentheses. */
export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/** What a lock file says: the owner's pid, and its start time (absent in locks of older meshctl). */
export function parseOwner(content: string): { pid: number; start: string | null } {
  const [pid, start] = content.trim().split(/\s+/);
  return { pid: Number(pid), start: start ?? null };
}

/** The content that names this process as the owner. */
export const ownerLine = (pid = process.pid): string => `${pid} ${processStartTime(pid) ?? ''}`.trim() + '\n';

/** Whether the owner a lock file names is still the process that wrote it. */
export function ownerAlive(content: string): boolean {
  const { pid, start } = parseOwner(content);
  if (!(pid > 0)) return false;
  if (pid === process.pid) return false; // we have not taken it yet: it is a former process with our pid
  let running: boolean;
  try {
    process.kill(pid, 0);
    running = true;
  } catch (err) {
    running = (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  if (!running) return false;
  const now = processStartTime(pid);
  return start === null || now === null || now === start;
}

export interface DirLock {
  release(): Promise<void>;
  /** True when the lock was left by an owner that died (it did not close cleanly). */
  readonly tookOver: boolean;
}

/** Takes `lockPath` for this process or throws DATA_DIR_LOCKED naming the owner. */
export async function acquireLock(lockPath: string, dataDir: string): Promise<DirLock> {
  const mine = `${lockPath}.${process.pid}`;
  let tookOver = false;
  await writeFile(mine, ownerLine(), { mode: 0o600 });
  try {
    for (let attempt = 0; attempt < 10; attempt++) {
      try {
        await link(mine, lockPath); // atomic: fails with EEXIST when someone holds it
        // On disk before anything is served: after a power loss the next start must still see
        // that this owner did not close cleanly.
        await syncPath(lockPath).catch(() => {});
        await syncPath(dirname(lockPath)).catch(() => {});
        return {
          tookOver,
          release: async () => {
            const owner = await readFile(lockPath, 'utf8').catch(() => '');
            if (owner === ownerLine()) await unlink(lockPath).catch(() => {});
          },
        };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const content = await readFile(lockPath, 'utf8').catch(() => null);
      if (content === null) continue; // released meanwhile
      if (ownerAlive(content)) {
        throw new MeshError('DATA_DIR_LOCKED', `another meshctl server (pid ${parseOwner(content).pid}) is using the data directory ${dataDir}`, {
          hint: 'Stop that server first, or give this one its own --data-dir',
        });
      }
      await breakStaleLock(lockPath, content, mine); // its owner is gone
      tookOver = true;
    }
    throw new MeshError('DATA_DIR_LOCKED', `could not take the lock ${lockPath}`, { hint: 'Check for another meshctl server on this data directory' });
  } finally {
    await unlink(mine).catch(() => {});
  }
}

/** Removes the lock left by a dead owner. Several servers starting at once can all find the same
 * stale lock; had each removed it blindly, one could remove the lock another had just taken in
 * its place, and both would run. So it is removed only by the holder of `<lock>.break`, and only
 * if it still holds `stale`. The others wait a moment and look again. */
async function breakStaleLock(lockPath: string, stale: string, mine: string): Promise<void> {
  const breaker = `${lockPath}.break`;
  try {
    await link(mine, breaker);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    // someone else is breaking it; a breaker whose owner is dead was left by a crash mid-break
    const by = await readFile(breaker, 'utf8').catch(() => null);
    if (by !== null && !ownerAlive(by)) await unlink(breaker).catch(() => {});
    await new Promise((r) => setTimeout(r, 10));
    return;
  }
  try {
    if ((await readFile(lockPath, 'utf8').catch(() => null)) === stale) await unlink(lockPath).catch(() => {});
  } finally {
    await unlink(breaker).catch(() => {});
  }
}
