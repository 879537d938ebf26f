// The fast paths that the single executable wraps around ejs and string-width (src/cli/fast-paths.ts,
// pkg.config.json bundle.wrap) give what the packages give: on every text of the help (the
// manifest's summaries, descriptions, examples, flags) and on random strings.
import t from 'tap';
import fc from 'fast-check';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import pkgConfig from '../../pkg.config.json' with { type: 'json' };
import { commandManifest } from '../../src/cli/main.ts';
import { COMMANDS } from '../../src/commands/index.ts';
import { fastEjs, fastStringWidth } from '../../src/cli/fast-paths.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
// resolved as oclif resolves them: the files the build wraps
const oclifRequire = createRequire(join(root, 'node_modules', '@oclif', 'core', 'lib', 'help', 'formatter.js'));
const ejsPath = oclifRequire.resolve('ejs');
const stringWidthPath = oclifRequire.resolve('string-width');
const ejs = oclifRequire('ejs') as { render(...a: unknown[]): unknown; compile: unknown };
const stringWidth = oclifRequire('string-width') as ((s: string) => number) & { default?: unknown };
const fast = { ejs: fastEjs(ejs), stringWidth: fastStringWidth(stringWidth) };

/** What a call returns, or the message of what it throws. */
const outcome = (f: () => unknown) => {
  try {
    return { value: f() };
  } catch (err) {
    return { threw: (err as Error).message };
  }
};

async function helpTexts(): Promise<string[]> {
  const m = await commandManifest(root, COMMANDS);
  const texts: string[] = [];
  const add = (s: unknown) => typeof s === 'string' && texts.push(s, s.split('\n', 1)[0]!);
  for (const c of Object.values(m.commands)) {
    add(c.summary);
    add(c.description);
    add(c.usage);
    for (const e of [c.examples ?? []].flat()) add(typeof e === 'string' ? e : e.command);
    for (const f of Object.values(c.flags)) {
      add(f.summary);
      add(f.description);
      add(`--${f.name}`);
    }
    for (const a of Object.values(c.args)) add(a.description);
  }
  return texts;
}

t.test('the build wraps the files these tests compare with', async (t) => {
  const wrap: Record<string, string[]> = pkgConfig.bundle.wrap;
  t.same(wrap[relative(root, ejsPath)], ['src/cli/fast-paths.ts', 'fastEjs']);
  t.same(wrap[relative(root, stringWidthPath)], ['src/cli/fast-paths.ts', 'fastStringWidth']);
});

t.test('ejs: the same output for every text of the help and for random templates', async (t) => {
  const context = { config: { bin: 'meshctl', name: 'meshctl' }, opts: {} };
  const texts = await helpTexts();
  t.ok(texts.length > 100, `${texts.length} texts`);
  for (const s of [...texts, '', 'a <%= config.bin %> b', '100%>', 'x <%% y', 'a\\b "c"\r\nd']) {
    t.same(outcome(() => fast.ejs.render(s, context)), outcome(() => ejs.render(s, context)), JSON.stringify(s).slice(0, 60));
  }
  const pieces = fc.constantFrom('<', '%', '>', '-', '_', '=', '#', ' ', '\n', '\r', '\\', '"', "'", 'x', 'é', '\u2028', '😀', 'config.bin');
  const template = fc.array(pieces, { maxLength: 12 }).map((a) => a.join(''));
  fc.assert(
    fc.property(template, fc.constantFrom<object | undefined>(undefined, {}, context, { rmWhitespace: true }, { delimiter: '?' }), (s, data) => {
      const args = data === undefined ? [s] : [s, data];
      t.same(outcome(() => fast.ejs.render(...args)), outcome(() => ejs.render(...args)));
    }),
    { numRuns: 3000, seed: 15 },
  );
  t.equal(fast.ejs.compile, ejs.compile, 'the rest of ejs is ejs');
});

t.test('string-width: the same width for every text of the help and for random strings', async (t) => {
  for (const s of [...(await helpTexts()), '', 'abc', '\x1b[1mbold\x1b[22m', 'tab\there', '日本', '😀 x', '#\uFE0F\u20E3', 'e\u0301']) {
    t.equal(fast.stringWidth(s), stringWidth(s), JSON.stringify(s).slice(0, 60));
  }
  fc.assert(
    fc.property(fc.oneof(fc.string({ unit: 'binary' }), fc.string(), fc.array(fc.constantFrom('#', '*', '1', '\uFE0F', '\u20E3', '\x1b', '[', 'm', 'a', ' ', '\u200D', '👍', '\uD83C')).map((a) => a.join(''))), (s) => {
      t.equal(fast.stringWidth(s), stringWidth(s));
    }),
    { numRuns: 3000, seed: 15 },
  );
  t.equal(fast.stringWidth(undefined as unknown as string), stringWidth(undefined as unknown as string), 'not a string');
  t.equal((fast.stringWidth as { default?: unknown }).default, fast.stringWidth, 'as the package: the function is its own default export');
});
