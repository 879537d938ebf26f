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

/** Replaces this process with itself run with MALLOC_TUNABLE (process.execve: same pid, so a
 * supervisor or a test that holds the pid is not disturbed). Returns when nothing is to be done
 * (already set, not Linux, or a runtime without process.execve). */
export async function execWithMallocTunable(): Promise<void> {
  const env = tunedEnv(process.env);
  if (!env || typeof process.execve !== 'function') return;
  const sea = await import('node:sea').catch(() => undefined);
  // A single executable sees argv as [exe, exe, ...args] and takes no script path.
  const args = sea?.isSea() ? [process.execPath, ...process.argv.slice(2)] : [process.execPath, ...process.execArgv, ...process.argv.slice(1)];
  process.execve(process.execPath, args, env as Record<string, string>);
}
