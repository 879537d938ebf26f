// Driving Ink components in tests: render with ink-testing-library, read frames without ANSI
// codes, press keys one at a time, type (paste) text, and wait for what should appear.
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
  /** Types `text` as one chunk (a paste), then waits until the frame shows it (at most 1 s). */
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
      // One chunk, as a paste (or a terminal over a slow link) delivers it. Key by key, a loaded
      // machine lost keys: ink-text-input computes the next value from the value its input
      // handler last saw, and Ink hands handlers new values in an effect after each render, so a
      // key that arrived before that effect replaced the one before it.
      r.stdin.write(text);
      const squash = (x: string) => x.replace(/[\s│]/g, '');
      const until = Date.now() + 1000;
      while (!squash(d.frame()).includes(squash(text)) && Date.now() < until) await sleep(5);
      await sleep(30);
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
