// src/platform/durable-file.ts: temp file, fsync, rename, fsync of the directory; a crash at
// any point leaves the old image or the new one. The order is checked through a recording
// node:fs/promises (t.mockImport); crashes are a rename that never comes back.
import t, { type Test } from 'tap';
import * as realFs from 'node:fs/promises';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { removeStaleTemps, writeFileDurably } from '../../src/platform/durable-file.ts';

type Mod = typeof import('../../src/platform/durable-file.ts');

/** durable-file.ts on a node:fs/promises that logs each step (and lets `hooks` replace some). */
async function recorded(t: Test, hooks: { rename?: (from: string, to: string) => Promise<void> } = {}) {
  const log: string[] = [];
  const name = (p: string) => basename(p).replace(/\.tmp-\d+-\d+$/, '.tmp');
  const fsMock = {
    ...realFs,
    open: async (path: string, flags: string, mode?: number) => {
      const fh = await realFs.open(path, flags, mode);
      log.push(`open ${name(path)} ${flags}`);
      return new Proxy(fh, {
        get(target, prop) {
          const v = Reflect.get(target, prop, target);
          if (typeof v !== 'function') return v;
          if (prop === 'writeFile' || prop === 'sync' || prop === 'close') {
            return async (...a: unknown[]) => {
              const r = await (v as (...x: unknown[]) => Promise<unknown>).apply(target, a);
              log.push(`${String(prop)} ${name(path)}`);
              return r;
            };
          }
          return v.bind(target);
        },
      });
    },
    rename: async (from: string, to: string) => {
      if (hooks.rename) return hooks.rename(from, to);
      await realFs.rename(from, to);
      log.push(`rename ${name(from)} -> ${name(to)}`);
    },
    unlink: async (p: string) => {
      await realFs.unlink(p);
      log.push(`unlink ${name(p)}`);
    },
  };
  const mod = await t.mockImport<Mod>('../../src/platform/durable-file.ts', { 'node:fs/promises': fsMock });
  return { mod, log };
}

t.test('the new image replaces the old, mode as asked, nothing left beside it', async (t) => {
  const dir = t.testdir({ 'db': 'old image' });
  const path = join(dir, 'db');
  await writeFileDurably(path, Buffer.from('new image'));
  t.equal(await readFile(path, 'utf8'), 'new image');
  t.equal((await stat(path)).mode & 0o777, 0o600, 'default 0600');
  await writeFileDurably(join(dir, 'pub'), Buffer.from('x'), 0o644);
  t.equal((await stat(join(dir, 'pub'))).mode & 0o777, 0o644);
  t.same((await readdir(dir)).sort(), ['db', 'pub']);
});

t.test('order: write and fsync the temp file, close it, rename over the target, then fsync the directory', async (t) => {
  const dir = t.testdir({ 'db': 'old' });
  const { mod, log } = await recorded(t);
  await mod.writeFileDurably(join(dir, 'db'), Buffer.from('new'));
  t.same(log, [
    'open db.tmp w',
    'writeFile db.tmp',
    'sync db.tmp',
    'close db.tmp',
    'rename db.tmp -> db',
    `open ${basename(dir)} r`,
    `sync ${basename(dir)}`,
    `close ${basename(dir)}`,
  ]);
  t.equal(await readFile(join(dir, 'db'), 'utf8'), 'new');
});

t.test('a crash after the fsync, before the rename: the old image is whole, the synced temp is swept at restart', async (t) => {
  const dir = t.testdir({ 'db': 'old image', 'other': 'keep', 'db2.tmp-1-1': 'not ours' });
  const path = join(dir, 'db');
  let crashed!: () => void;
  const atRename = new Promise<void>((r) => (crashed = r));
  const { mod, log } = await recorded(t, {
    rename: () => {
      crashed();
      return new Promise<void>(() => {}); // the process is gone: rename never happens, nothing after it runs
    },
  });
  void mod.writeFileDurably(path, Buffer.from('new image'));
  await atRename;
  t.same(log, ['open db.tmp w', 'writeFile db.tmp', 'sync db.tmp', 'close db.tmp'], 'the temp was synced before the rename was tried');
  t.equal(await readFile(path, 'utf8'), 'old image', 'the target is untouched');
  const temps = (await readdir(dir)).filter((f) => f.startsWith('db.tmp-'));
  t.equal(temps.length, 1);
  t.equal(await readFile(join(dir, temps[0]!), 'utf8'), 'new image', 'the temp holds the whole new image');

  // the restart: stale temps of this file go, nothing else does
  await removeStaleTemps(path);
  t.same((await readdir(dir)).sort(), ['db', 'db2.tmp-1-1', 'other']);
  t.equal(await readFile(path, 'utf8'), 'old image');
});

t.test('a failing rename removes the temp and rethrows; the target keeps the old image', async (t) => {
  const dir = t.testdir({ 'db': 'old image' });
  const { mod, log } = await recorded(t, {
    rename: async () => {
      throw Object.assign(new Error('EXDEV: cross-device link not permitted'), { code: 'EXDEV' });
    },
  });
  await t.rejects(mod.writeFileDurably(join(dir, 'db'), Buffer.from('new')), { code: 'EXDEV' });
  t.equal(log.at(-1), 'unlink db.tmp');
  t.notOk(log.some((l) => l.startsWith('sync ' + basename(dir))), 'no directory fsync after a failed rename');
  t.same(await readdir(dir), ['db']);
  t.equal(await readFile(join(dir, 'db'), 'utf8'), 'old image');
});

t.test('a failing write still closes the temp file and leaves the target alone', async (t) => {
  const dir = t.testdir({ 'db': 'old image' });
  const { mod, log } = await recorded(t);
  await t.rejects(mod.writeFileDurably(join(dir, 'db'), 42 as unknown as Uint8Array));
  t.ok(log.includes('close db.tmp'), 'closed');
  t.notOk(log.some((l) => l.startsWith('rename')), 'never renamed');
  t.equal(await readFile(join(dir, 'db'), 'utf8'), 'old image');
});

t.test('two writes in one process use distinct temp names', async (t) => {
  const dir = t.testdir();
  const path = join(dir, 'db');
  await Promise.all([writeFileDurably(path, Buffer.from('a')), writeFileDurably(path, Buffer.from('b'))]);
  t.match(await readFile(path, 'utf8'), /^[ab]$/);
  t.same(await readdir(dir), ['db']);
});
