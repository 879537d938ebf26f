// The controller's malloc setting. glibc's malloc raises its mmap threshold as large blocks are
// freed (up to 32 MB): after the first join reply of a few hundred KB has been written and freed,
// every later buffer of that size comes from the main arena. A burst of joins then leaves the
// arena fragmented (long-lived per-connection TLS and HTTP/2 buffers between the freed replies),
// and glibc returns none of it: `npm run bench:converge` measured the arena at 260 MB with 1,000
// agents connected (15 MB with none), where a fixed threshold of 64 KB left it at about 100 MB
// (blocks of 64 KB and more are mapped on their own and unmapped when freed). The controller
// runs with that threshold: `meshctl server` executes itself again (same pid, arguments and
// stdio) with GLIBC_TUNABLES set, unless GLIBC_TUNABLES already sets the threshold (so an
// operator can choose another value). glibc reads the setting only at start; other C libraries
// ignore it.

// It also runs with V8's young generation capped at 2 x 16 MB (V8's default here is 2 x 32 MB):
// a burst of joins grows it to the cap, and V8 keeps it committed long after (63 MB committed,
// 17 MB used, minutes after 5,000 joins). The cap saved 37 MB at 5,000 agents with no change in
// the join rate (issue 15). The single executable carries the flag in its own execArgv
// (pkg.config.json); `node bin/run.js server` is run again with it, as for the malloc setting,
// unless the operator gave a semi-space size of their own.

/** The V8 flag the controller runs with. */
export const V8_FLAG = '--max-semi-space-size=16';

/** The tunable the controller runs with (glibc 2.26 or later). */
export const MALLOC_TUNABLE = 'glibc.malloc.mmap_threshold=65536';

/** The environment to run the controller with, or null when `env` already has the setting (or
 * the platform has no glibc). */
export function tunedEnv(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): NodeJS.ProcessEnv | null {
  if (platform !== 'linux') return null;
  const current = env.GLIBC_TUNABLES ?? '';
  if (/(^|:)glibc\.malloc\.mmap_threshold=/.test(current)) return null;
  return { ...env, GLIBC_TUNABLES: current ? `${current}:${MALLOC_TUNABLE}` : MALLOC_TUNABLE };
}

/** The Node flags to run again with: V8_FLAG, unless `execArgv` already sizes the semi-space. */
export function tunedExecArgv(execArgv: readonly string[]): string[] | null {
  return execArgv.some((a) => /^--max-semi-space-size(=|$)/.test(a)) ? null : [V8_FLAG, ...execArgv];
}

/** Replaces this process with itself run with MALLOC_TUNABLE and V8_FLAG (process.execve: same
 * pid, so a supervisor or a test that holds the pid is not disturbed). Returns when nothing is
 * to be done (already set, not Linux, or a runtime without process.execve). */
export async function execTunedController(): Promise<void> {
  if (process.platform !== 'linux' || typeof process.execve !== 'function') return;
  const sea = await import('node:sea').catch(() => undefined);
  const isSea = Boolean(sea?.isSea());
  const env = tunedEnv(process.env);
  // A single executable has its Node flags built in, and sees argv as [exe, exe, ...args].
  const flags = isSea ? null : tunedExecArgv(process.execArgv);
  if (!env && !flags) return;
  const args = isSea ? [process.execPath, ...process.argv.slice(2)] : [process.execPath, ...(flags ?? process.execArgv), ...process.argv.slice(1)];
  process.execve(process.execPath, args, (env ?? process.env) as Record<string, string>);
}
