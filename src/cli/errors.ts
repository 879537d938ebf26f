// One exit path: any error -> `Error (CODE): message` + `Try this:` (or {"error":…} under --json)
// and an exit code: 1 when the operation failed, 2 for bad usage.
import { MeshError, type ErrorCode } from '../core/errors.ts';
import { suggestCommand } from './suggest.ts';

export interface ErrorJson {
  error: { code: string; message: string; hint?: string };
}

interface Classified {
  code: ErrorCode | string;
  message: string;
  hint?: string;
  exit: number;
}

/** Turns anything thrown into what the user sees. Unknown errors never print a stack unless MESHCTL_DEBUG is set. */
export function classify(err: unknown, commandIds: readonly string[] = []): Classified {
  if (err instanceof MeshError) {
    return { code: err.code, message: err.message, ...(err.hint ? { hint: err.hint } : {}), exit: err.code === 'USAGE' ? 2 : 1 };
  }
  const e = err as { oclif?: { exit?: number }; message?: string; code?: string; name?: string };
  // oclif parse errors (unknown flag, missing argument, bad option) and unknown commands.
  const unknown = /^command (\S+) not found/i.exec(e?.message ?? '');
  if (unknown) {
    const typed = unknown[1]!.replaceAll(':', ' ');
    const guess = suggestCommand(unknown[1]!, commandIds);
    return { code: 'USAGE', message: `unknown command "meshctl ${typed}"`, hint: guess ? `Did you mean: meshctl ${guess.replaceAll(':', ' ')}?` : 'See meshctl --help for the commands', exit: 2 };
  }
  if (e?.oclif?.exit !== undefined || e?.name === 'CLIParseError') {
    const exit = e.oclif?.exit ?? 2;
    if (exit === 0) return { code: 'OK', message: '', exit: 0 };
    const message = (e.message ?? 'bad usage').replace(/\n\s*See more help with --help$/s, '').trim();
    return { code: 'USAGE', message, hint: 'See the command\'s --help', exit: exit === 1 ? 2 : exit };
  }
  return { code: 'INTERNAL', message: `unexpected error: ${e?.message ?? String(err)}`, hint: 'Run again with MESHCTL_DEBUG=1 for details, and report it', exit: 1 };
}

export function renderHuman(c: Classified): string {
  return `Error (${c.code}): ${c.message}` + (c.hint ? `\nTry this: ${c.hint}` : '');
}

export function renderJson(c: Classified): string {
  const body: ErrorJson = { error: { code: c.code, message: c.message, ...(c.hint ? { hint: c.hint } : {}) } };
  return JSON.stringify(body, null, 2);
}
