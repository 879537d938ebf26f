// Coverage of src/ per layer (src/core, src/controller, ...), from the json-summary tap writes at
// the end of a run (.tap/report/coverage-summary.json). Files no test loaded count as 0 % of
// their lines (c8 counts every physical line, so `wc -l` is the same measure), except files that
// hold only types (nothing is left of them at run time, so there is nothing to cover).
//
// `node scripts/coverage.js`          prints the per-layer table of the last run
// `node scripts/coverage.js --check`  ... and fails when a layer is under its floor
//                                     (scripts/coverage-floors.json)
// `npm run coverage`                  the full per-file report (HTML) of the last run
//
// Coverage counts every process the tests start: tap's processinfo follows child processes
// (NODE_OPTIONS), so `meshctl` commands spawned by the CLI, harness and e2e tests count.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { stripTypeScriptTypes } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const SUMMARY = join(repo, '.tap', 'report', 'coverage-summary.json');
const FLOORS = join(repo, 'scripts', 'coverage-floors.json');
const METRICS = ['lines', 'branches', 'functions'];

function sources(dir) {
  const out = [];
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (/\.tsx?$/.test(f) && !f.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** True when nothing but imports and exports of names is left once the types are stripped. */
function typeOnly(text) {
  const emit = process.emitWarning;
  process.emitWarning = () => {}; // stripTypeScriptTypes is experimental and says so on every run
  let stripped;
  try {
    stripped = stripTypeScriptTypes(text);
  } finally {
    process.emitWarning = emit;
  }
  const js = stripped
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/\/\/.*$/gm, '')
    .replace(/^\s*(import|export)\b[^;]*\bfrom\s*['"][^'"]*['"];?/gm, '')
    .replace(/export\s*\{\s*\};?/g, '');
  return js.trim() === '';
}

/** src/core/x.ts -> src/core; src/controller/store/y.ts -> src/controller; src/z.ts -> src. */
export const layerOf = (rel) => rel.split(sep).slice(0, 2).filter((p) => !/\.tsx?$/.test(p)).join('/');

/** Per-layer totals from the last run's summary, or null when there is none. */
export function readCoverage() {
  if (!existsSync(SUMMARY)) return null;
  const summary = JSON.parse(readFileSync(SUMMARY, 'utf8'));
  const layers = new Map();
  const files = [];
  for (const abs of sources(join(repo, 'src'))) {
    const rel = relative(repo, abs);
    const s = summary[abs];
    const text = readFileSync(abs, 'utf8');
    if (!s && typeOnly(text)) continue;
    const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
    const m = s ?? { lines: { total: lines, covered: 0 }, branches: { total: 0, covered: 0 }, functions: { total: 0, covered: 0 } };
    const layer = layerOf(rel);
    if (!layers.has(layer)) layers.set(layer, { files: 0, unloaded: 0, lines: { total: 0, covered: 0 }, branches: { total: 0, covered: 0 }, functions: { total: 0, covered: 0 } });
    const L = layers.get(layer);
    L.files++;
    if (!s) L.unloaded++;
    for (const k of METRICS) {
      L[k].total += m[k].total;
      L[k].covered += m[k].covered;
    }
    files.push({ rel, loaded: !!s, lines: m.lines });
  }
  return { layers, files };
}

const pct = (m) => (m.total === 0 ? 100 : (100 * m.covered) / m.total);
/** A percentage for the table; "-" when there was nothing to count (no file of the layer ran). */
const show = (m, width) => (m.total === 0 ? '-'.padStart(width + 1) : `${pct(m).toFixed(1).padStart(width)}%`);

/** Prints the table; with `floors`, marks and returns the layers under their floor. */
export function printCoverage(cov, floors) {
  const below = [];
  const rows = [...cov.layers.entries()].sort(([a], [b]) => a.localeCompare(b));
  console.log(`\ncoverage of src/ by layer (every process the tests started; floors: scripts/coverage-floors.json):`);
  console.log(`  ${'layer'.padEnd(16)} ${'lines'.padStart(7)} ${'branches'.padStart(9)} ${'functions'.padStart(10)}  floor (lines/branches)`);
  for (const [layer, L] of rows) {
    const f = floors?.[layer];
    const miss = [];
    if (f) {
      if (pct(L.lines) < f.lines) miss.push(`lines ${pct(L.lines).toFixed(1)} < ${f.lines}`);
      if (pct(L.branches) < f.branches) miss.push(`branches ${pct(L.branches).toFixed(1)} < ${f.branches}`);
    }
    if (miss.length) below.push(`${layer}: ${miss.join(', ')}`);
    const unloaded = L.unloaded ? `, ${L.unloaded} of ${L.files} files never loaded` : '';
    console.log(
      `  ${layer.padEnd(16)} ${show(L.lines, 6)} ${show(L.branches, 8)} ${show(L.functions, 9)}  ` +
        `${f ? `${f.lines}/${f.branches}` : '-'}${miss.length ? '  BELOW FLOOR' : ''}${unloaded}`,
    );
  }
  const least = cov.files.filter((f) => f.lines.total > 0).sort((a, b) => pct(a.lines) - pct(b.lines)).slice(0, 8);
  console.log(`  least covered files: ${least.map((f) => `${f.rel} ${pct(f.lines).toFixed(0)}%${f.loaded ? '' : ' (never loaded)'}`).join(', ')}`);
  console.log(`  full report: npm run coverage`);
  return below;
}

export const readFloors = () => JSON.parse(readFileSync(FLOORS, 'utf8')).floors;

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const mode = process.argv[2];
  if (mode === 'html') {
    // the full per-file report of the last run; tap opens it in a browser when there is one
    if (!existsSync(join(repo, '.tap', 'coverage')) || readdirSync(join(repo, '.tap', 'coverage')).length === 0) {
      console.error('Error (NO_COVERAGE): no coverage recorded yet.\nTry this: npm test (or npm test -- unit), then npm run coverage');
      process.exit(1);
    }
    const browser = process.env.DISPLAY || process.env.WAYLAND_DISPLAY || process.platform === 'darwin' ? [] : ['--no-browser'];
    const index = join(repo, '.tap', 'report', 'index.html');
    const t0 = Date.now();
    spawnSync(process.execPath, [join(repo, 'node_modules', 'tap', 'dist', 'esm', 'run.mjs'), 'report', 'html', 'text-summary', ...browser], { cwd: repo, stdio: 'inherit' });
    // tap's exit status here is about 100 % coverage (and "no tests"), not about the report
    const written = existsSync(index) && statSync(index).mtimeMs >= t0 - 1000;
    if (!written) console.error(`Error (NO_REPORT): tap did not write ${relative(repo, index)}`);
    process.exit(written ? 0 : 1);
  }
  const cov = readCoverage();
  if (!cov) {
    console.error(`Error (NO_COVERAGE): ${relative(repo, SUMMARY)} is missing.\nTry this: npm test`);
    process.exit(1);
  }
  const below = printCoverage(cov, readFloors());
  if (mode === '--check' && below.length) {
    console.error(`\nError (COVERAGE_BELOW_FLOOR): ${below.join('; ')}`);
    process.exit(1);
  }
}
