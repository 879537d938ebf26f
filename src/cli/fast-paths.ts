// Fast paths around two dependencies of oclif's help, for the single executable: scripts/build.js
// hands oclif these wrappers instead of the packages (pkg.config.json bundle.wrap), because the
// profile of `meshctl --help` showed them among the costliest steps of a start. Each returns what
// the package returns, and calls the package itself for anything but the plain case
// (test/cli/fast-paths.test.ts compares them on the manifest's texts and on random strings).

type Ejs = { render(...args: unknown[]): unknown; delimiter?: string; openDelimiter?: string; closeDelimiter?: string };

// What ejs (6.x) reads as options from the data object when render() gets no options.
const EJS_OPTIONS_IN_DATA = ['delimiter', 'scope', 'context', 'debug', 'compileDebug', '_with', 'rmWhitespace', 'strict', 'filename', 'async'];

/** ejs, whose render() returns a template without any tag as it is. ejs compiles every template
 * into a new Function at every call (oclif renders each summary, description and topic of the
 * help through it): V8 compiles each one, and none of them can be in the executable's code cache.
 * A template in which ejs's tag pattern cannot match (no `<%`, no `%>`, default delimiters) is one
 * literal whose output is the template. */
export function fastEjs<T extends Ejs>(ejs: T): T {
  function render(this: unknown, ...args: unknown[]): unknown {
    const [template, data] = args;
    if (
      args.length <= 2 &&
      typeof template === 'string' &&
      !template.includes('<%') &&
      !template.includes('%>') &&
      (ejs.delimiter || '%') === '%' &&
      (ejs.openDelimiter || '<') === '<' &&
      (ejs.closeDelimiter || '>') === '>' &&
      (data === undefined || (typeof data === 'object' && data !== null && !EJS_OPTIONS_IN_DATA.some((k) => Object.hasOwn(data, k))))
    ) {
      return template;
    }
    return ejs.render(...args);
  }
  return new Proxy(ejs, { get: (target, key, receiver) => (key === 'render' ? render : Reflect.get(target, key, receiver)) });
}

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** string-width (4.x), answering printable ASCII by its length. The package strips ANSI escapes
 * (which start with ESC or CSI) and replaces emoji through emoji-regex (each alternative holds a
 * character outside ASCII), then counts 1 per printable ASCII character: the length. Compiling
 * emoji-regex's 10 KB pattern, which the first call does, costs a few ms of every help. */
export function fastStringWidth<T extends (s: string) => number>(stringWidth: T): T {
  const fast = ((s: string) => (typeof s === 'string' && PRINTABLE_ASCII.test(s) ? s.length : stringWidth(s))) as T & { default?: unknown };
  if ((stringWidth as T & { default?: unknown }).default === stringWidth) fast.default = fast;
  return fast;
}
