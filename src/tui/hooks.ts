// Hooks shared by the dashboard's screens: terminal size, a scrolling cursor, and data that
// reloads when the event stream says something changed (or on a timer), reporting failures.
import React from 'react';
import { useInput, useStdout } from 'ink';
import { MeshError } from '../core/errors.ts';

export interface Size {
  columns: number;
  rows: number;
}

/** The terminal's size, following resizes; `fixed` (tests) wins. */
export function useTermSize(fixed?: Size): Size {
  const { stdout } = useStdout();
  const read = (): Size => fixed ?? { columns: stdout.columns || 80, rows: stdout.rows || 24 };
  const [size, setSize] = React.useState(read);
  React.useEffect(() => {
    if (fixed) return;
    const on = () => setSize(read());
    stdout.on('resize', on);
    return () => {
      stdout.off('resize', on);
    };
  }, [stdout, fixed]);
  return size;
}

/** A cursor over `count` rows shown `height` at a time: ↑/↓ j/k, PgUp/PgDn, g/G (Home/End). */
export function useCursor(count: number, height: number, active: boolean): { cursor: number; offset: number; setCursor: (n: number) => void } {
  const [cursor, setCursor] = React.useState(0);
  const [offset, setOffset] = React.useState(0);
  const c = Math.max(0, Math.min(cursor, count - 1));
  let o = Math.min(offset, Math.max(0, count - height));
  if (c < o) o = c;
  if (c >= o + height) o = c - height + 1;
  if (o !== offset) setOffset(o);
  if (c !== cursor && count > 0) setCursor(c);
  useInput((input, key) => {
    const page = Math.max(1, height - 1);
    if (key.downArrow || input === 'j') setCursor(Math.min(count - 1, c + 1));
    else if (key.upArrow || input === 'k') setCursor(Math.max(0, c - 1));
    else if (key.pageDown || input === ' ') setCursor(Math.min(count - 1, c + page));
    else if (key.pageUp) setCursor(Math.max(0, c - page));
    else if (input === 'g' || (key as { home?: boolean }).home) setCursor(0);
    else if (input === 'G' || (key as { end?: boolean }).end) setCursor(Math.max(0, count - 1));
  }, { isActive: active });
  return { cursor: c, offset: Math.max(0, o), setCursor };
}

/** How a screen tells the app that a call failed or worked (for the "unreachable" banner). */
export interface Health {
  failed(err: unknown): void;
  ok(): void;
}

export const HealthContext = React.createContext<Health>({ failed: () => {}, ok: () => {} });

/** True for errors that mean the controller could not be reached (the dashboard retries them). */
export const isUnreachable = (err: unknown): boolean => err instanceof MeshError ? err.code === 'UNREACHABLE' : !!(err as { code?: string })?.code?.toString().startsWith('E');

/** Loads `load()` now, again whenever `tick` or a dep changes, and every `pollMs` when given.
 * Keeps the last good data while a reload runs or fails. */
export function useData<T>(load: () => Promise<T>, deps: unknown[], tick: number, pollMs?: number): { data: T | undefined; error: Error | undefined; reload: () => void } {
  const health = React.useContext(HealthContext);
  const [data, setData] = React.useState<T | undefined>(undefined);
  const [error, setError] = React.useState<Error | undefined>(undefined);
  const [n, setN] = React.useState(0);
  React.useEffect(() => {
    setData(undefined);
  }, deps);
  React.useEffect(() => {
    let live = true;
    load().then(
      (d) => {
        if (!live) return;
        setData(d);
        setError(undefined);
        health.ok();
      },
      (err: Error) => {
        if (!live) return;
        setError(err);
        health.failed(err);
      },
    );
    return () => {
      live = false;
    };
  }, [...deps, tick, n]);
  React.useEffect(() => {
    if (!pollMs) return;
    const t = setInterval(() => setN((x) => x + 1), pollMs);
    return () => clearInterval(t);
  }, [pollMs]);
  return { data, error, reload: () => setN((x) => x + 1) };
}
