// The dashboard's overlays and chrome: a form validated as you type (the server's refusal shown
// inline), a confirmation, a secret shown once (with its QR code), the footer and the help.
import React from 'react';
import { Box, Text, useInput } from 'ink';
import TextInput from 'ink-text-input';
import { ConfirmInput, Spinner } from '@inkjs/ui';

const h = React.createElement;

export interface Field {
  key: string;
  label: string;
  placeholder?: string;
  initial?: string;
  /** An error for people, or null when the value is acceptable (checked on every key press). */
  validate?: (value: string) => string | null;
}

export interface FormProps {
  title: string;
  fields: Field[];
  /** Does the action; a rejection is shown under the form, which stays open to fix it. */
  onSubmit: (values: Record<string, string>) => Promise<void>;
  onCancel: () => void;
}

/** A form: Tab/↓ next field, ↑ previous, Enter next or submit, Esc cancels. */
export function Form(p: FormProps): React.ReactElement {
  const [values, setValues] = React.useState<Record<string, string>>(() => Object.fromEntries(p.fields.map((f) => [f.key, f.initial ?? ''])));
  const [focus, setFocus] = React.useState(0);
  const [busy, setBusy] = React.useState(false);
  const [refusal, setRefusal] = React.useState<string | null>(null);
  const errors = p.fields.map((f) => (f.validate ? f.validate(values[f.key] ?? '') : null));
  useInput((_input, key) => {
    if (key.escape) p.onCancel();
    else if (key.tab || key.downArrow) setFocus((i) => (i + 1) % p.fields.length);
    else if (key.upArrow) setFocus((i) => (i + p.fields.length - 1) % p.fields.length);
  }, { isActive: !busy });
  const submit = () => {
    if (focus < p.fields.length - 1) return setFocus(focus + 1);
    const bad = errors.findIndex((e) => e);
    if (bad >= 0) return setFocus(bad);
    setBusy(true);
    setRefusal(null);
    p.onSubmit(values).then(
      () => setBusy(false),
      (err: Error & { hint?: string }) => {
        setBusy(false);
        setRefusal(`${err.message}${err.hint ? ` (${err.hint})` : ''}`);
      },
    );
  };
  return h(Box, { flexDirection: 'column', borderStyle: 'round', borderColor: 'cyan', paddingX: 1 },
    h(Text, { bold: true }, p.title),
    ...p.fields.map((f, i) =>
      h(Box, { key: f.key, flexDirection: 'column' },
        h(Box, null,
          h(Text, { color: i === focus ? 'cyan' : undefined }, `${f.label}: `),
          h(TextInput, {
            value: values[f.key] ?? '',
            focus: i === focus && !busy,
            ...(f.placeholder ? { placeholder: f.placeholder } : {}),
            onChange: (v: string) => {
              setValues((old) => ({ ...old, [f.key]: v.replace(/[\x00-\x1f\x7f]/g, '') }));
              setRefusal(null);
            },
            onSubmit: submit,
          })),
        errors[i] && (values[f.key] ?? '') !== '' ? h(Text, { color: 'red' }, `  ${errors[i]}`) : null)),
    busy ? h(Spinner, { label: 'sending…' }) : null,
    refusal ? h(Text, { color: 'red', wrap: 'wrap' }, `refused: ${refusal}`) : null,
    h(Text, { dimColor: true }, 'Enter next/submit · Tab next field · Esc cancel'));
}

export interface ConfirmProps {
  message: string;
  onYes: () => Promise<void>;
  onDone: () => void;
}

/** "Really …? (y/N)": nothing happens unless y is pressed; an error is shown, Esc/n closes. */
export function Confirm(p: ConfirmProps): React.ReactElement {
  const [state, setState] = React.useState<'ask' | 'busy' | { error: string }>('ask');
  useInput((_i, key) => {
    if (key.escape || key.return) p.onDone();
  }, { isActive: typeof state === 'object' });
  useInput((_i, key) => {
    if (key.escape) p.onDone();
  }, { isActive: state === 'ask' });
  return h(Box, { flexDirection: 'column', borderStyle: 'round', borderColor: 'yellow', paddingX: 1 },
    h(Box, null,
      h(Text, null, `${p.message} `),
      state === 'ask'
        ? h(ConfirmInput, {
          defaultChoice: 'cancel',
          onConfirm: () => {
            setState('busy');
            p.onYes().then(p.onDone, (err: Error) => setState({ error: err.message }));
          },
          onCancel: p.onDone,
        })
        : null),
    state === 'busy' ? h(Spinner, { label: 'sending…' }) : null,
    typeof state === 'object' ? h(Text, { color: 'red' }, `refused: ${state.error} (Enter to close)`) : null);
}

export interface SecretProps {
  title: string;
  /** The secret itself: shown here once, never kept after this closes. */
  text: string;
  /** Its QR code as terminal text (half blocks), when there is one. */
  qr?: string;
  rows: number;
  onClose: () => void;
}

/** A secret shown once, with its QR code when the terminal is tall enough. */
export function Secret(p: SecretProps): React.ReactElement {
  useInput((_i, key) => {
    if (key.return || key.escape) p.onClose();
  });
  const qrLines = p.qr ? p.qr.replace(/\n+$/, '').split('\n') : [];
  const textLines = p.text.split('\n').length;
  const fits = qrLines.length > 0 && qrLines.length + textLines + 5 <= p.rows;
  return h(Box, { flexDirection: 'column', borderStyle: 'round', borderColor: 'green', borderLeft: false, borderRight: false },
    h(Text, { bold: true, color: 'green' }, p.title),
    h(Text, { wrap: 'wrap' }, p.text),
    fits ? h(Text, null, qrLines.join('\n')) : p.qr ? h(Text, { dimColor: true }, `(a QR code needs ${qrLines.length + textLines + 5} rows; make the terminal taller to see it)`) : null,
    h(Text, { color: 'yellow' }, 'Shown only now: copy it. Enter or Esc closes.'));
}

/** The bottom line: the keys that work here. */
export function Footer(p: { keys: [string, string][]; columns: number }): React.ReactElement {
  const parts: React.ReactElement[] = [];
  let used = 0;
  for (const [k, label] of p.keys) {
    const w = k.length + label.length + 3;
    if (used + w > p.columns) break;
    used += w;
    parts.push(h(Box, { key: k, marginRight: 1 }, h(Text, { inverse: true }, ` ${k} `), h(Text, { dimColor: true }, ` ${label}`)));
  }
  return h(Box, null, ...parts);
}

/** The `?` overlay: every key of this screen and the global ones. */
export function Help(p: { screen: [string, string][]; global: [string, string][]; onClose: () => void }): React.ReactElement {
  useInput(() => p.onClose());
  const line = ([k, l]: [string, string]) => h(Text, { key: k }, h(Text, { color: 'cyan' }, k.padEnd(10)), l);
  return h(Box, { flexDirection: 'column', borderStyle: 'round', paddingX: 1 },
    h(Text, { bold: true }, 'Keys on this screen'),
    ...p.screen.map(line),
    h(Text, { bold: true }, 'Everywhere'),
    ...p.global.map(line),
    h(Text, { dimColor: true }, 'any key closes'));
}
