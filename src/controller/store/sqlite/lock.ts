// One owner per data directory: a lock file holding the owner's pid. A lock whose pid is no
// longer alive is stale (the owner was killed) and is taken over.
import { link, readFile, unlink, writeFile } from 'node:fs/promises';
import { MeshError } from '../../../core/errors.ts';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface DirLock {
  release(): Promise<void>;
}

/** Takes `lockPath` for this process or throws DATA_DIR_LOCKED naming the owner. */
export async function acquireLock(lockPath: string, dataDir: string): Promise<DirLock> {
  const mine = `${lockPath}.${process.pid}`;
  await writeFile(mine, `${process.pid}\n`, { mode: 0o600 });
  try {
    for (let attempt = 0; attempt < 10; attempt++) {
      try {
        await link(mine, lockPath); // atomic: fails with EEXIST when someone holds it
        return {
          release: async () => {
            const owner = await readFile(lockPath, 'utf8').catch(() => '');
            if (Number(owner.trim()) === process.pid) await unlink(lockPath).catch(() => {});
          },
        };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const content = await readFile(lockPath, 'utf8').catch(() => null);
      if (content === null) continue; // released meanwhile
      const owner = Number(content.trim());
      if (owner > 0 && alive(owner)) {
        throw new MeshError('DATA_DIR_LOCKED', `another meshctl server (pid ${owner}) is using the data directory ${dataDir}`, {
          hint: 'Stop that server first, or give this one its own --data-dir',
        });
      }
      await breakStaleLock(lockPath, content, mine); // its owner is gone
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
    const by = Number((await readFile(breaker, 'utf8').catch(() => '')).trim());
    if (by > 0 && !alive(by)) await unlink(breaker).catch(() => {});
    await new Promise((r) => setTimeout(r, 10));
    return;
  }
  try {
    if ((await readFile(lockPath, 'utf8').catch(() => null)) === stale) await unlink(lockPath).catch(() => {});
  } finally {
    await unlink(breaker).catch(() => {});
  }
}
