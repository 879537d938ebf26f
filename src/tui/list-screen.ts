// What the list screens that add and remove rows (keys, DNS records) share: the cursor with the
// keys n (a form that adds one) and d (remove the selected one, after a confirmation), and the
// body (loading or why not, nothing matching or nothing yet, else the rows in view under a header
// and a count).
import React from 'react';
import { Box, Text, useInput } from 'ink';
import { useCursor } from './hooks.ts';
import { headerRow, note, type Column, type ScreenProps } from './screen.ts';
import type { FormProps } from './widgets.ts';

const h = React.createElement;

/** What d does with the selected row: ask `ask`, then `run` (its answer goes to the status line);
 * or, as a plain string, why it cannot be removed. */
export type Removal = { ask: string; run: () => Promise<string> } | string;

/** The cursor over `list` (`win` rows in view), with n opening `add()`'s form and d removing. */
export function useAddRemove<T>(p: ScreenProps, list: T[], win: number, add: () => Omit<FormProps, 'onCancel'>, remove: (sel: T) => Removal): { cursor: number; offset: number } {
  const { cursor, offset } = useCursor(list.length, win, p.active);
  useInput((input) => {
    const sel = list[cursor];
    if (input === 'n') p.ui.form(add());
    else if (input === 'd' && sel) {
      const r = remove(sel);
      if (typeof r === 'string') p.ui.say(r);
      else p.ui.confirm(r.ask, async () => p.ui.say(await r.run()));
    }
  }, { isActive: p.active });
  return { cursor, offset };
}

export interface ListBody<T> {
  /** What the list holds, singular and plural: "record", "records". */
  noun: [string, string];
  loaded: { data: T[] | undefined; error: Error | undefined };
  /** The loaded rows that match `filter`. */
  list: T[];
  filter: string;
  /** What to say when there is nothing at all. */
  empty: string;
  cols: Column[];
  cursor: number;
  offset: number;
  win: number;
  row: (item: T, selected: boolean) => React.ReactElement;
}

export function listBody<T>(b: ListBody<T>): React.ReactElement {
  const [one, many] = b.noun;
  if (!b.loaded.data) return note(b.loaded.error ? `cannot list ${many}: ${b.loaded.error.message}` : `loading ${many}…`, b.loaded.error ? 'red' : undefined);
  if (b.list.length === 0) return note(b.filter ? `no ${one} matches "${b.filter}"` : b.empty);
  return h(Box, { flexDirection: 'column' },
    headerRow(b.cols),
    ...b.list.slice(b.offset, b.offset + b.win).map((item, i) => b.row(item, b.offset + i === b.cursor)),
    h(Text, { dimColor: true }, `${b.cursor + 1}/${b.list.length} ${many}`));
}
