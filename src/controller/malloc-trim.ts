// Before each agent connection takes its long-lived buffers, the controller gives the C heap's
// free pages back to the system (glibc's malloc_trim), so that those buffers start on untouched
// pages.
//
// Every TLS connection Node accepts keeps a 64 KB ring for the bytes it receives (NodeBIO, sized
// by libuv's read suggestion). Only the pages written count in RSS, and an agent's connection
// writes into few of them, unless glibc hands it memory that other buffers had written and freed.
// In the controller that is the rule: agents' daemons connect while joins are answered, and each
// join's connection writes its reply (the whole view, hundreds of KB) in 64 KB pieces that Node
// copies into a temporary buffer, then frees. A census of every 64 KB malloc (an LD_PRELOAD shim
// reading /proc/self/pagemap at each allocation, `npm run bench:converge -- --agents 1000`, issue
// 15) found 45 % of the rings' pages already resident when allocated (22 % in the bare grpc-js
// server, whose streams open in a quiet phase), and at steady state the controller's 1,000 input
// rings held 30 MB of resident pages against the bare server's 13 MB. With a trim as each
// connection is accepted: 26 % and 13-15 MB, the bare server's figure.
//
// So `meshctl server` trims as each node API connection is accepted, before TLS allocates its
// buffers. (A trim before each Watch stream's first write over 1 KB, where TLS adds a 16 KB
// output buffer, was tried too: the census at 1,000 gave 2.8 MB less resident in those buffers,
// bench:converge at 5,000 no change in the controller's memory per agent: 109 against 108 KB;
// the writes themselves touch most of that buffer's pages. Not kept.) A trim costs 0.1-0.2 ms
// with 5,000 agents connected (glibc walks its free lists and advises the kernel of each free page
// run); trims are kept to a share of the time (TRIM_SHARE).
//
// Node has no binding for malloc_trim; node:ffi (experimental in the pinned Node 26) calls it from
// the C library. Where that is not possible (no glibc, a runtime without node:ffi, FFI denied by
// Node's permission model) nothing is done.
import { performance } from 'node:perf_hooks';
import { counter } from './metrics.ts';

/** Calls malloc_trim(0); true when it gave memory back. */
export type TrimFn = () => boolean;

interface Ffi {
  dlopen(path: string | null, definitions: Record<string, { arguments: string[]; return: string }>): { functions: Record<string, (...args: unknown[]) => unknown> };
}

/** malloc_trim from the C library this process runs on, or null where it cannot be had. Loading
 * node:ffi prints an ExperimentalWarning; that one warning is kept out of the controller's log. */
export async function loadMallocTrim(platform: NodeJS.Platform = process.platform): Promise<TrimFn | null> {
  if (platform !== 'linux') return null;
  const emit = process.emitWarning;
  process.emitWarning = function (this: NodeJS.Process, warning: string | Error, ...rest: unknown[]) {
    if (String(typeof warning === 'string' ? warning : warning.message).startsWith('FFI is an experimental')) return;
    return (emit as (...a: unknown[]) => void).call(this, warning, ...rest);
  } as typeof process.emitWarning;
  try {
    const ffi = (await import('node:ffi' as string)) as Ffi;
    // null: the symbols of the process image (node and the C library it is linked with); musl
    // has no malloc_trim, and dlopen then throws
    const { functions } = ffi.dlopen(null, { malloc_trim: { arguments: ['u64'], return: 'i32' } });
    const trim = functions.malloc_trim!;
    return () => trim(0n) === 1;
  } catch {
    return null;
  } finally {
    process.emitWarning = emit;
  }
}

/** Largest share of the time spent trimming: after a trim that took d ms, the next waits d /
 * TRIM_SHARE ms (0.15 ms at 5,000 agents: one every 3 ms at most; a restart herd brings 300-400
 * connections a second). */
export const TRIM_SHARE = 0.05;

export const trims = counter({
  name: 'meshctl_malloc_trims_total',
  help: 'Node API connections accepted with a trim of the C heap before them (result="trimmed"), or without one for coming too soon after the last (result="skipped").',
  labelNames: ['result'] as const,
});
export const trimSeconds = counter({ name: 'meshctl_malloc_trim_seconds_total', help: 'Time spent trimming the C heap before node API connections.' });

/** A function to call as each connection is accepted, before it is handed to TLS: a trim, unless
 * the last one was too recent for `share` of the time. */
export function trimBeforeConnections(trim: TrimFn, share = TRIM_SHARE, now: () => number = () => performance.now()): () => void {
  let next = -Infinity;
  return () => {
    const t0 = now();
    if (t0 < next) {
      trims.inc({ result: 'skipped' });
      return;
    }
    trim();
    const t1 = now();
    trims.inc({ result: 'trimmed' });
    trimSeconds.inc((t1 - t0) / 1000);
    next = t1 + (t1 - t0) / share;
  };
}
