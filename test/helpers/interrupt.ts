// Clean-up that also runs when a test run is interrupted (Ctrl-C of `npm test` sends SIGINT to
// every process of the run; a runner that gives up sends SIGTERM). Node's default is to die at
// once, leaving namespaces and child processes behind: here every registered clean-up runs
// first, each under a deadline, and the process then exits 130 (143 for SIGTERM).
const cleanups = new Set<() => Promise<unknown>>();
let installed = false;
let running: Promise<void> | null = null;
const DEADLINE_MS = 15_000;

/** Runs `fn` if this process is interrupted before `release()` is called. */
export function onInterrupt(fn: () => Promise<unknown>): () => void {
  if (!installed) {
    installed = true;
    for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
      process.on(sig, () => {
        running ??= runAll().finally(() => process.exit(code));
      });
    }
  }
  cleanups.add(fn);
  return () => void cleanups.delete(fn);
}

async function runAll(): Promise<void> {
  const all = [...cleanups].map((fn) => fn().catch((e: unknown) => process.stderr.write(`clean-up after interrupt: ${String(e)}\n`)));
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.all(all), new Promise((r) => (timer = setTimeout(r, DEADLINE_MS)))]);
  clearTimeout(timer);
}
