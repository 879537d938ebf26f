// The audit log: who did what, newest first.
import React from 'react';
import { Box, Text } from 'ink';
import { useCursor, useData } from '../hooks.ts';
import { fit, headerRow, note, row, type ScreenProps } from '../screen.ts';
import { matches } from '../format.ts';
import type { AuditEntry } from '../source.ts';

const h = React.createElement;

export const AUDIT_KEYS: [string, string][] = [['Esc', 'back'], ['/', 'filter']];

const str = (x: unknown): string => (x === undefined || x === null ? '' : typeof x === 'string' ? x : JSON.stringify(x));

/** The entry's details: every field but the ones shown in their own columns. */
const details = (e: AuditEntry): string =>
  Object.entries(e).filter(([k]) => !['id', 'at', 'actor', 'action'].includes(k)).map(([k, x]) => `${k}=${str(x)}`).join(' ');

export function AuditScreen(p: ScreenProps): React.ReactElement {
  const log = useData(() => p.source.audit(500), [], p.tick, 5000);
  const list = (log.data ?? []).slice().sort((a, b) => str(b.at).localeCompare(str(a.at))).filter((e) => matches(p.filter, str(e.actor), str(e.action), details(e)));
  const win = p.height - 2;
  const { cursor, offset } = useCursor(list.length, win, p.active);
  const cols = fit([
    { title: 'WHEN', width: 19 },
    { title: 'WHO', width: 12 },
    { title: 'WHAT', width: 18 },
    { title: 'DETAILS', width: Math.max(10, p.columns - 52) },
  ], p.columns);
  if (!log.data) return note(log.error ? `cannot read the audit log: ${log.error.message}` : 'loading the audit log…', log.error ? 'red' : undefined);
  if (list.length === 0) return note(p.filter ? `no entry matches "${p.filter}"` : 'The audit log is empty.');
  return h(Box, { flexDirection: 'column' },
    headerRow(cols),
    ...list.slice(offset, offset + win).map((e, i) =>
      row(String(e.id ?? `${e.at}-${offset + i}`), cols, { WHEN: str(e.at).replace('T', ' ').slice(0, 19), WHO: str(e.actor), WHAT: str(e.action), DETAILS: details(e) }, offset + i === cursor)),
    h(Text, { dimColor: true }, `${cursor + 1}/${list.length} entries`));
}
