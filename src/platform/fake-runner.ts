// A Runner for unit tests: records every argv and answers from a scripted table.
import { CommandError, type RunOptions, type RunResult, type Runner } from './runner.ts';

/** A scripted answer: a result (missing fields default to success), `notFound`, or a function of the call. */
export type FakeReply =
  | (Partial<RunResult> & { notFound?: boolean })
  | ((argv: string[], opts: RunOptions) => Partial<RunResult> & { notFound?: boolean });

interface Rule {
  match: string | RegExp;
  reply: FakeReply;
  once: boolean;
}

/** Records calls; the first matching rule answers (string = whole command line, RegExp = tested on it). */
export class FakeRunner implements Runner {
  /** Every argv run, in order. */
  readonly calls: string[][] = [];
  /** Every input given, aligned with `calls`. */
  readonly inputs: (string | undefined)[] = [];
  private rules: Rule[] = [];

  /** Answer commands matching `match` with `reply`, every time. */
  on(match: string | RegExp, reply: FakeReply): this {
    this.rules.push({ match, reply, once: false });
    return this;
  }

  /** Answer the next command matching `match` with `reply`, once. */
  once(match: string | RegExp, reply: FakeReply): this {
    this.rules.push({ match, reply, once: true });
    return this;
  }

  /** The recorded calls as command lines, for comparing as text. */
  get lines(): string[] {
    return this.calls.map((a) => a.join(' '));
  }

  /** Forget recorded calls (the rules stay). */
  clear(): void {
    this.calls.length = 0;
    this.inputs.length = 0;
  }

  async run(argv: string[], opts: RunOptions = {}): Promise<RunResult> {
    this.calls.push([...argv]);
    this.inputs.push(opts.input);
    const line = argv.join(' ');
    const i = this.rules.findIndex((r) => (typeof r.match === 'string' ? r.match === line : r.match.test(line)));
    const rule = i < 0 ? undefined : this.rules[i];
    if (rule?.once) this.rules.splice(i, 1);
    const reply = rule === undefined ? {} : typeof rule.reply === 'function' ? rule.reply(argv, opts) : rule.reply;
    if (reply.notFound) throw new CommandError(argv, { exitCode: null, stderr: '', notFound: true });
    const result = { stdout: reply.stdout ?? '', stderr: reply.stderr ?? '', exitCode: reply.exitCode ?? 0 };
    if (result.exitCode !== 0 && !opts.allowFail) throw new CommandError(argv, result);
    return result;
  }
}
