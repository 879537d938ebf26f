// Driving Ink components in tests: render with ink-testing-library, read frames without ANSI
// codes, type keys one at a time, and wait for what should appear.
import './force-color.ts';
import React from 'react';
import { render } from 'ink-testing-library';
import { stripVTControlCharacters } from 'node:util';

export const KEY = { enter: '\r', esc: '\x1b', tab: '\t', up: '\x1b[A', down: '\x1b[B', backspace: '\x7f' };

export interface Driver {
  /** The last frame as plain text. */
  frame(): string;
  /** The last frame with its ANSI codes (colours). */
  raw(): string;
  /** Types `keys`, each as its own chunk (as a person does), letting Ink settle in between. */
  press(...keys: string[]): Promise<void>;
  /** Types `text` a character at a time. */
  type(text: string): Promise<void>;
  /** Resolves when `pred(frame)` holds; rejects with the last frame after `ms`. */
  waitFor(pred: (frame: string) => boolean, ms?: number, what?: string): Promise<string>;
  unmount(): void;
  frames: string[];
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function drive(el: React.ReactElement): Driver {
  const r = render(el);
  const d: Driver = {
    frame: () => stripVTControlCharacters(r.lastFrame() ?? ''),
    raw: () => r.lastFrame() ?? '',
    async press(...keys) {
      await sleep(30);
      for (const k of keys) {
        r.stdin.write(k);
        await sleep(30);
      }
    },
    async type(text) {
      await sleep(60); // a field that just appeared subscribes to input in an effect: let it run
      for (const c of text) {
        r.stdin.write(c);
        await sleep(10);
      }
      await sleep(20);
    },
    async waitFor(pred, ms = 2000, what = 'the expected frame') {
      const until = Date.now() + ms;
      for (;;) {
        const f = d.frame();
        if (pred(f)) return f;
        if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}; last frame:\n${f}`);
        await sleep(15);
      }
    },
    unmount: () => r.unmount(),
    frames: r.frames,
  };
  return d;
}
