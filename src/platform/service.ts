// How a node is kept in step: a systemd unit running `meshctl agent`, or a root crontab line
// running `meshctl checkin` every minute. Both are idempotent desired-state setters: installing
// twice with the same options changes nothing the second time, and removing what is absent is
// a no-op.
import { readdir, readFile, stat, unlink } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { MeshError } from '../core/errors.ts';
import { writeFileDurably } from './durable-file.ts';
import { CommandError, type Runner } from './runner.ts';

export type DaemonMode = 'systemd' | 'cron';

export const UNIT_NAME = 'meshctl-agent.service';
export const DEFAULT_UNIT_DIR = '/etc/systemd/system';
/** sd_booted(3): this directory exists only when PID 1 is systemd. */
const SYSTEMD_RUN_DIR = '/run/systemd/system';
/** cron runs jobs with PATH=/usr/bin:/bin, where `ip` and `wg` (in sbin) are not found. */
const CRON_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const CRON_TAG = '# meshctl-checkin ';
const NO_SYSTEMD = /not been booted with systemd|Failed to connect to bus|Host is down/i;

/** True when a cron daemon (cron, crond, fcron) runs on this host: a crontab line does nothing without one. */
export async function cronDaemonRunning(procDir = '/proc'): Promise<boolean> {
  const pids = (await readdir(procDir).catch(() => [] as string[])).filter((d) => /^\d+$/.test(d));
  for (const pid of pids) {
    const comm = await readFile(join(procDir, pid, 'comm'), 'utf8').catch(() => '');
    if (/^(cron|crond|fcron)$/.test(comm.trim())) return true;
  }
  return false;
}

/** 'systemd' when PID 1 is systemd (/run/systemd/system exists), else 'cron'. */
export async function detectDaemonMode(runner: Runner): Promise<DaemonMode> {
  const r = await runner.run(['test', '-d', SYSTEMD_RUN_DIR], { allowFail: true });
  return r.exitCode === 0 ? 'systemd' : 'cron';
}

/** `command` is the argv prefix that runs meshctl: [binary] for the built executable, [node, bin/run.js] in development. */
export interface SystemdUnitOptions {
  command: string[];
  configDir: string;
  /** Default /etc/systemd/system. */
  unitDir?: string;
  /** Enable and start (or restart, when the unit changed) the service. Default true. */
  enable?: boolean;
}

/** The unit file's text: `<command> agent --config-dir <configDir>`, restarted forever, hardened but root with network powers. */
export function renderSystemdUnit(opts: { command: string[]; configDir: string }): string {
  const command = checkCommand(opts.command);
  const dir = checkConfigDir(opts.configDir);
  const exec = [...command, 'agent', '--config-dir', dir].map((w) => systemdWord(w, true)).join(' ');
  return [
    '# Written by meshctl (join --daemon systemd); meshctl leave removes it.',
    '[Unit]',
    "Description=meshctl agent: keeps this node's WireGuard mesh in step with its controller",
    'Wants=network-online.target',
    'After=network-online.target',
    // Restart=always with RestartSec=2 would hit the default limit (5 starts in 10 s) and stop for good.
    'StartLimitIntervalSec=0',
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${exec}`,
    'Restart=always',
    'RestartSec=2',
    // Hardening that keeps what the agent needs as root: netlink and CAP_NET_ADMIN for interfaces
    // and routes, /dev/net/tun for wireguard-go, /proc/sys for forwarding, writes to its config dir.
    // Not MemoryDenyWriteExecute (Node's JIT needs it), not ProtectKernelTunables (sysctls),
    // not ProtectClock or DeviceAllow (they would close /dev/net/tun).
    'NoNewPrivileges=yes',
    'ProtectSystem=full',
    'ProtectHome=read-only',
    `ReadWritePaths=${systemdWord(dir, false)}`,
    'PrivateTmp=yes',
    'ProtectControlGroups=yes',
    'ProtectKernelLogs=yes',
    'RestrictRealtime=yes',
    'RestrictSUIDSGID=yes',
    'LockPersonality=yes',
    'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

/**
 * Writes <unitDir>/meshctl-agent.service; when it changed, `systemctl daemon-reload`. With enable,
 * `systemctl enable --now` (a new or unchanged unit) or enable + restart (a changed one).
 */
export async function installSystemdUnit(runner: Runner, opts: SystemdUnitOptions): Promise<{ unitPath: string; changed: boolean }> {
  const unitPath = join(opts.unitDir ?? DEFAULT_UNIT_DIR, UNIT_NAME);
  const text = renderSystemdUnit(opts);
  const before = await readFile(unitPath, 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return null;
    throw new MeshError('COMMAND_FAILED', `reading ${unitPath}: ${e.message}`, { cause: e });
  });
  const changed = before !== text;
  if (changed) {
    await writeFileDurably(unitPath, Buffer.from(text), 0o644).catch((e: NodeJS.ErrnoException) => {
      const hint = e.code === 'EACCES' || e.code === 'EPERM' ? 'Run meshctl as root (sudo)' : undefined;
      throw new MeshError(e.code === 'EACCES' || e.code === 'EPERM' ? 'NOT_ROOT' : 'COMMAND_FAILED', `writing ${unitPath}: ${e.message}`, {
        ...(hint === undefined ? {} : { hint }),
        cause: e,
      });
    });
    await systemctl(runner, ['daemon-reload']);
  }
  if (opts.enable ?? true) {
    if (changed && before !== null) {
      // A running agent keeps its old ExecStart until restarted; `enable --now` would not restart it.
      await systemctl(runner, ['enable', UNIT_NAME]);
      await systemctl(runner, ['restart', UNIT_NAME]);
    } else {
      await systemctl(runner, ['enable', '--now', UNIT_NAME]);
    }
  }
  return { unitPath, changed };
}

/** Stops and disables the service, deletes its unit file and reloads systemd. False (and nothing run) when there is no unit file. */
export async function removeSystemdUnit(runner: Runner, unitDir: string = DEFAULT_UNIT_DIR): Promise<boolean> {
  const unitPath = join(unitDir, UNIT_NAME);
  const exists = await stat(unitPath).then(() => true, () => false);
  if (!exists) return false;
  await systemctl(runner, ['disable', '--now', UNIT_NAME]);
  await unlink(unitPath).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'ENOENT') throw new MeshError('COMMAND_FAILED', `removing ${unitPath}: ${e.message}`, { cause: e });
  });
  await systemctl(runner, ['daemon-reload']);
  return true;
}

async function systemctl(runner: Runner, args: string[]): Promise<void> {
  const argv = ['systemctl', ...args];
  const r = await runner.run(argv, { allowFail: true });
  if (r.exitCode === 0) return;
  if (NO_SYSTEMD.test(r.stderr)) {
    throw new MeshError('COMMAND_FAILED', `running \`${argv.join(' ')}\`: systemd is not running on this host: ${r.stderr.trim()}`, {
      hint: 'Use --daemon cron (or --daemon off and schedule meshctl yourself)',
    });
  }
  throw new CommandError(argv, r);
}

/** The root crontab line that runs `<command> checkin --config-dir <dir> --json` every minute, tagged `# meshctl-checkin <dir>`. */
export function cronLine(command: string[], configDir: string): string {
  const dir = checkConfigDir(configDir);
  const run = [...checkCommand(command), 'checkin', '--config-dir', dir, '--json'].map(shellWord).join(' ');
  // Output is discarded so cron does not mail it; the tag is a shell comment, found again by cronTag.
  return cronEscape(`* * * * * ${CRON_PATH} ${run} >/dev/null 2>&1 `) + cronTag(dir);
}

/** Installs (or replaces in place) the check-in line for `configDir` in the invoking user's (root's) crontab; other lines are kept as they are. */
export async function installCronLine(runner: Runner, opts: { command: string[]; configDir: string }): Promise<{ line: string; changed: boolean }> {
  const line = cronLine(opts.command, opts.configDir);
  const tag = cronTag(checkConfigDir(opts.configDir));
  const current = await readCrontab(runner);
  const at = current.findIndex((l) => isOurs(l, tag));
  const next = current.filter((l) => !isOurs(l, tag));
  next.splice(at < 0 ? next.length : at, 0, line);
  const changed = !sameLines(current, next);
  if (changed) await writeCrontab(runner, next);
  return { line, changed };
}

/** Removes only the check-in line for `configDir`; false (and nothing written) when there was none. */
export async function removeCronLine(runner: Runner, configDir: string): Promise<boolean> {
  const tag = cronTag(checkConfigDir(configDir));
  const current = await readCrontab(runner);
  const next = current.filter((l) => !isOurs(l, tag));
  if (next.length === current.length) return false;
  if (next.length === 0) await runner.run(['crontab', '-r']);
  else await writeCrontab(runner, next);
  return true;
}

/** What to tell the operator under `--daemon off`: the commands that keep this node in step. */
export function offInstructions(command: string[], configDir: string): string {
  const dir = checkConfigDir(configDir);
  const agent = [...checkCommand(command), 'agent', '--config-dir', dir].map(shellWord).join(' ');
  return [
    'meshctl did not schedule anything (--daemon off). Keep this node in step with one of:',
    '  a long-lived agent, run as root under your supervisor (peer changes arrive within seconds):',
    `    ${agent}`,
    '  or a check-in every minute, e.g. this line in root\'s crontab (crontab -e):',
    `    ${cronLine(command, dir)}`,
  ].join('\n');
}

async function readCrontab(runner: Runner): Promise<string[]> {
  const r = await runner.run(['crontab', '-l'], { allowFail: true });
  if (r.exitCode !== 0) {
    if (/no crontab for/i.test(r.stderr)) return [];
    throw new CommandError(['crontab', '-l'], r);
  }
  const lines = r.stdout.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

async function writeCrontab(runner: Runner, lines: string[]): Promise<void> {
  // cron ignores a last line without a newline.
  await runner.run(['crontab', '-'], { input: lines.join('\n') + '\n' });
}

const cronTag = (dir: string) => cronEscape(CRON_TAG + shellWord(dir));
const isOurs = (line: string, tag: string) => line.trimEnd().endsWith(' ' + tag);
const sameLines = (a: string[], b: string[]) => a.length === b.length && a.every((l, i) => l === b[i]);

/** cron turns an unescaped % into a newline (the rest becomes stdin); \% passes a literal %. */
const cronEscape = (s: string) => s.replaceAll('%', '\\%');

/** A POSIX shell word: bare when safe, else single-quoted. */
export function shellWord(s: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/**
 * A word in a unit file: bare when safe, else double-quoted with \ and " escaped. % is a
 * specifier everywhere (%%); in ExecStart (exec) $ expands variables, so $$ passes a literal $.
 */
export function systemdWord(s: string, exec: boolean): string {
  let w = s.replaceAll('%', '%%');
  if (exec) w = w.replaceAll('$', () => '$$');
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(w)) return w;
  return `"${w.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

function checkCommand(command: string[]): string[] {
  const [program] = command;
  if (program === undefined || !isAbsolute(program)) {
    throw new MeshError('INVALID_ARGUMENT', `the meshctl command must start with an absolute path, got ${JSON.stringify(command)}`, {
      hint: 'Pass process.execPath (and the bin/run.js path when running from source)',
    });
  }
  for (const w of command) checkPrintable(w, 'the meshctl command');
  return command;
}

function checkConfigDir(configDir: string): string {
  checkPrintable(configDir, 'the config directory');
  return resolve(configDir);
}

function checkPrintable(s: string, what: string): void {
  // A newline would end the unit line or crontab line early and start a new one.
  if (/[\x00-\x1f\x7f]/.test(s)) throw new MeshError('INVALID_ARGUMENT', `${what} contains a control character: ${JSON.stringify(s)}`);
}
