// Reads back a QR code printed by `qrcode`'s small terminal renderer (half blocks + ANSI colours)
// and decodes it with jsQR: what a phone's camera would see on a light terminal.
import jsqr from 'jsqr';

// jsqr is CommonJS with an ES-style `default` in its types: under Node's ESM the import is the function itself.
const jsQR = ((jsqr as unknown as { default?: unknown }).default ?? jsqr) as unknown as typeof jsqr.default;

type Colour = 'default' | 'black' | 'white';

/** The module matrix of a printed QR: true = dark. Default colours count as light (quiet zone). */
export function terminalQrModules(text: string): boolean[][] {
  const rows: boolean[][] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let fg: Colour = 'default';
    let bg: Colour = 'default';
    const top: boolean[] = [];
    const bottom: boolean[] = [];
    const re = /\x1b\[(\d+)m|([\s\S])/g;
    for (let m = re.exec(line); m; m = re.exec(line)) {
      if (m[1] !== undefined) {
        const c = Number(m[1]);
        if (c === 0) fg = bg = 'default';
        else if (c === 30) fg = 'black';
        else if (c === 37) fg = 'white';
        else if (c === 40) bg = 'black';
        else if (c === 47) bg = 'white';
        continue;
      }
      const ch = m[2]!;
      const [t, b] = ch === '█' ? [fg, fg] : ch === '▀' ? [fg, bg] : ch === '▄' ? [bg, fg] : [bg, bg];
      top.push(t === 'black');
      bottom.push(b === 'black');
    }
    rows.push(top, bottom);
  }
  return rows;
}

/** Decodes the QR code in `text` (terminal output); null when none is found. */
export function decodeTerminalQr(text: string, scale = 4): string | null {
  const modules = terminalQrModules(text);
  const margin = 4; // a generous quiet zone, as a screen around the terminal gives
  const h = modules.length + 2 * margin;
  const w = Math.max(...modules.map((r) => r.length)) + 2 * margin;
  const px = new Uint8ClampedArray(w * scale * h * scale * 4).fill(255);
  modules.forEach((row, y) => row.forEach((dark, x) => {
    if (!dark) return;
    for (let dy = 0; dy < scale; dy++) {
      for (let dx = 0; dx < scale; dx++) {
        const i = (((y + margin) * scale + dy) * w * scale + (x + margin) * scale + dx) * 4;
        px[i] = px[i + 1] = px[i + 2] = 0;
      }
    }
  }));
  return jsQR(px, w * scale, h * scale)?.data ?? null;
}
