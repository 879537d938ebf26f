// The one way out to the OS: every program meshctl runs goes through a Runner, so tests can
// swap in FakeRunner and compare the argv lists as text (as Tailscale's commandRunner does).
import { execa } from 'execa';
import { MeshError } from '../core/errors.ts';

export interface RunOptions {
  /** Written to the program's stdin. */
  input?: string;
  /** Return a non-zero exit as a result instead of throwing. A missing program still throws. */
  allowFail?: boolean;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** Runs one program to completion; throws CommandError unless it exits 0 (or allowFail). */
export interface Runner {
  run(argv: string[], opts?: RunOptions): Promise<RunResult>;
}

/** A failed command: COMMAND_FAILED carrying argv, exit code and stderr; notFound when the program is missing. */
export class CommandError extends MeshError {
  readonly argv: readonly string[];
  readonly exitCode: number | null;
  readonly stderr: string;
  readonly notFound: boolean;
  constructor(argv: readonly string[], r: { exitCode: number | null; stderr: string; notFound?: boolean; cause?: unknown }) {
    const program = argv[0] ?? '';
    const notFound = r.notFound ?? false;
    const pkg = DEBIAN_PACKAGE[program];
    const message = notFound
      ? `running ${program}: the program is not installed`
      : `running \`${argv.join(' ')}\`: exited with code ${r.exitCode ?? 'none'}${r.stderr.trim() ? `: ${r.stderr.trim()}` : ''}`;
    const hint = notFound ? (pkg ? `Install it: apt-get install -y ${pkg}` : `Install ${program} and make sure it is on PATH`) : undefined;
    super('COMMAND_FAILED', message, { ...(hint === undefined ? {} : { hint }), ...(r.cause === undefined ? {} : { cause: r.cause }) });
    this.argv = argv;
    this.exitCode = r.exitCode;
    this.stderr = r.stderr;
    this.notFound = notFound;
  }
}

/** The Debian package that provides each program meshctl runs. */
export const DEBIAN_PACKAGE: Readonly<Record<string, string>> = {
  ip: 'iproute2',
  wg: 'wireguard-tools',
  'wireguard-go': 'wireguard-go',
  ping: 'iputils-ping',
  dig: 'dnsutils',
  unshare: 'util-linux',
  mount: 'mount',
  iptables: 'iptables',
  nft: 'nftables',
  sysctl: 'procps',
  resolvectl: 'systemd-resolved',
  systemctl: 'systemd',
  crontab: 'cron',
};

export interface ExecaRunnerOptions {
  /** Prepended to every argv, e.g. a lab host's `ip netns exec … sh -c … sh` wrapper. */
  prefix?: string[];
  /** Kill a command that runs longer than this (default 30 s). */
  timeoutMs?: number;
}

/** The real runner, over execa. Output is returned without the trailing newline. */
export class ExecaRunner implements Runner {
  readonly prefix: readonly string[];
  readonly timeoutMs: number;
  constructor(opts: ExecaRunnerOptions = {}) {
    this.prefix = opts.prefix ?? [];
    this.timeoutMs = opts.timeoutMs ?? 30_000;
  }

  async run(argv: string[], opts: RunOptions = {}): Promise<RunResult> {
    const full = [...this.prefix, ...argv];
    const [file, ...args] = full;
    if (file === undefined) throw new MeshError('INTERNAL', 'running a command: argv is empty');
    const r = await execa(file, args, {
      reject: false,
      timeout: this.timeoutMs,
      stdin: opts.input === undefined ? 'ignore' : 'pipe',
      ...(opts.input === undefined ? {} : { input: opts.input }),
    });
    const stderr = typeof r.stderr === 'string' ? r.stderr : '';
    if (r.code === 'ENOENT' && r.exitCode === undefined) {
      throw new CommandError(this.prefix.length ? full : argv, { exitCode: null, stderr, notFound: true, cause: r });
    }
    // Behind a prefix, the wrapper's `sh` reports a missing inner program as exit 127.
    if (this.prefix.length && r.exitCode === 127 && /not found/.test(stderr)) {
      throw new CommandError(argv, { exitCode: 127, stderr, notFound: true, cause: r });
    }
    const result = { stdout: typeof r.stdout === 'string' ? r.stdout : '', stderr, exitCode: r.exitCode ?? -1 };
    if (r.failed && !(opts.allowFail && r.exitCode !== undefined)) {
      const why = r.timedOut ? `${stderr}\n(timed out after ${this.timeoutMs} ms)`.trim() : stderr;
      throw new CommandError(argv, { exitCode: r.exitCode ?? null, stderr: why, cause: r });
    }
    return result;
  }
}
