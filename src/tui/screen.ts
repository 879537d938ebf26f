// What every dashboard screen gets from the app, and the little table helpers they share.
import React from 'react';
import { Box, Text } from 'ink';
import type { DataSource } from './source.ts';
import type { FormProps } from './widgets.ts';
import { cell } from './format.ts';

const h = React.createElement;

export type Route =
  | { kind: 'networks' }
  | { kind: 'network'; network: string; tab: Tab }
  | { kind: 'node'; network: string; node: string }
  | { kind: 'audit' };

export const TABS = ['nodes', 'matrix', 'keys', 'dns', 'gateways'] as const;
export type Tab = (typeof TABS)[number];

/** What screens may ask of the app: overlays, navigation and the status line. */
export interface Ui {
  form(p: Omit<FormProps, 'onCancel'>): void;
  /** Asks "message (y/N)"; runs `action` on y; its error is shown in the overlay. */
  confirm(message: string, action: () => Promise<void>): void;
  /** Shows a secret once (with a QR code of `qrText` when given). */
  secret(title: string, text: string, qrText?: string): void;
  close(): void;
  open(r: Route): void;
  say(msg: string): void;
}

export interface ScreenProps {
  source: DataSource;
  tick: number;
  filter: string;
  /** This screen gets the keys (no overlay is open). */
  active: boolean;
  /** Rows and columns for the screen's body. */
  height: number;
  columns: number;
  now: number;
  ui: Ui;
}

export interface Column {
  title: string;
  width: number;
  right?: boolean;
}

/** Drops the columns marked optional (listed last first) until the rest fit `columns`. */
export function fit(cols: (Column & { optional?: number })[], columns: number): Column[] {
  let out = cols.slice();
  const total = () => out.reduce((s, c) => s + c.width + 1, 0);
  const optional = cols.filter((c) => c.optional).sort((a, b) => (b.optional ?? 0) - (a.optional ?? 0));
  for (const c of optional) {
    if (total() <= columns) break;
    out = out.filter((x) => x !== c);
  }
  return out;
}

/** A header row of `cols`. */
export function headerRow(cols: Column[]): React.ReactElement {
  return h(Text, { bold: true, dimColor: true }, cols.map((c) => cell(c.title, c.width, c.right)).join(' '));
}

/** One row: cells (text with an optional colour) under `cols`, inverse when selected. */
export function row(key: string, cols: Column[], cells: Record<string, string | [string, string]>, selected: boolean): React.ReactElement {
  return h(Box, { key },
    ...cols.map((c, i) => {
      const v = cells[c.title] ?? '';
      const [text, color] = Array.isArray(v) ? v : [v, undefined];
      return h(Text, { key: c.title, inverse: selected, ...(color ? { color } : {}) }, cell(text, c.width, c.right) + (i < cols.length - 1 ? ' ' : ''));
    }));
}

/** "nothing here" / "loading…" / an error, in the body. */
export function note(text: string, color?: string): React.ReactElement {
  return h(Text, color ? { color } : { dimColor: true }, text);
}
