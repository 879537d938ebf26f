// The data directory lock (src/controller/store/sqlite/lock.ts) across real processes.
import t from 'tap';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HOLDER = fileURLToPath(new URL('../helpers/lock-holder.ts', import.meta.url));

/** The pid of a process that has exited: a stale lock's owner. */
async function deadPid(): Promise<number> {
  const p = spawn(process.execPath, ['-e', '0']);
  await new Promise((r) => p.once('exit', r));
  return p.pid!;
}

/** Resolves to the next line `k` prints. */
function nextLine(k: ChildProcess): Promise<string> {
  return new Promise((resolve) => {
    let out = '';
    const onData = (d: string) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        k.stdout!.off('data', onData);
        resolve(out.slice(0, nl));
      }
    };
    k.stdout!.on('data', onData);
    k.once('exit', () => resolve(out.trim() || 'EXITED'));
  });
}

/** Starts `n` lock takers on `dir`, lets them all go at the same moment, and resolves once each
 * said GOT or REFUSED, with a release() that lets the holders go (they keep the lock until then,
 * so that none of them looks stale to the others). */
async function race(dir: string, n: number) {
  const kids = Array.from({ length: n }, () => spawn(process.execPath, [HOLDER, dir], { stdio: ['pipe', 'pipe', 'inherit'] }));
  for (const k of kids) k.stdout!.setEncoding('utf8');
  const ready = await Promise.all(kids.map(nextLine));
  assert.ok(ready.every((s) => s === 'READY'), ready.join(', '));
  const answers = kids.map(nextLine);
  for (const k of kids) k.stdin!.write('go\n');
  const said = await Promise.all(answers);
  return {
    said,
    pids: kids.map((k) => k.pid!),
    release: async () => {
      await Promise.all(kids.map((k) => {
        k.stdin!.end();
        return k.exitCode === null ? new Promise((r) => k.once('exit', r)) : undefined;
      }));
    },
  };
}

t.test('of several servers starting at once on a directory with a stale lock, exactly one gets it', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'meshctl-lock-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const TRIALS = 15; // before the fix, 8 of 25 such trials had 2 to 4 owners
  const doubled: string[] = [];
  for (let trial = 0; trial < TRIALS; trial++) {
    await writeFile(join(dir, 'server.lock'), `${await deadPid()}\n`, { mode: 0o600 });
    const r = await race(dir, 5);
    try {
      const got = r.said.filter((s) => s === 'GOT').length;
      assert.ok(r.said.every((s) => s === 'GOT' || s.startsWith('REFUSED DATA_DIR_LOCKED')), r.said.join(', '));
      if (got !== 1) doubled.push(`trial ${trial}: ${got} owners (${r.said.join(', ')})`);
      else {
        const owner = r.pids[r.said.indexOf('GOT')];
        assert.equal((await readFile(join(dir, 'server.lock'), 'utf8')).split(' ')[0], String(owner));
      }
    } finally {
      await r.release();
    }
  }
  assert.deepEqual(doubled, [], `the lock had more than one owner (or none) in ${doubled.length} of ${TRIALS} trials`);
});

t.test('a live owner is named; a stale lock, and a breaker left by a crash mid-break, are taken over', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'meshctl-lock-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const first = await race(dir, 1);
  try {
    assert.deepEqual(first.said, ['GOT']);
    const second = await race(dir, 1);
    await second.release();
    assert.deepEqual(second.said, ['REFUSED DATA_DIR_LOCKED']);
  } finally {
    await first.release();
  }
  assert.deepEqual(await readdir(dir), [], 'release removes the lock');

  await writeFile(join(dir, 'server.lock'), `${await deadPid()}\n`);
  await writeFile(join(dir, 'server.lock.break'), `${await deadPid()}\n`);
  const next = await race(dir, 1);
  try {
    assert.deepEqual(next.said, ['GOT']);
    assert.equal((await readFile(join(dir, 'server.lock'), 'utf8')).split(' ')[0], String(next.pids[0]));
  } finally {
    await next.release();
  }
});
