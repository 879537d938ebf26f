// The e2e lab (shared/LAB.md): one network namespace per host on a private bridge, each command
// run "on" a host inside its namespace AND a private mount namespace whose /var/run/wireguard is
// that host's own directory (wireguard-go's UAPI sockets are otherwise shared across namespaces).
// Never adds routes in, nor sends traffic from, the root namespace.
import { spawn as spawnChild, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { onInterrupt } from '../helpers/interrupt.ts';
import { ExecaRunner, type RunOptions, type RunResult, type Runner } from '../../src/platform/runner.ts';

export const LAB_ROOT = '/tmp/lab';

export interface LabOptions {
  /** Unique per run, e.g. uniquePrefix('mt'); names the namespaces `<prefix>-<host>` and /tmp/lab/<prefix>. */
  prefix: string;
  /** Host names, 1-13 of [a-z0-9]; 'ctl' gets .2, the others .11, .12, … in order. */
  hosts: string[];
  /** Sites behind NAT routers (optional). */
  sites?: SiteOptions[];
}

/**
 * A site behind a NAT router: the router is a host of its own with one leg on the public bridge
 * (an address after the public hosts') and a bridge `br-lan` for the site's hosts, which get
 * 192.168.<n>.10, .11, … (n = 1 for the first site) and a default route via 192.168.<n>.1.
 * - `port-keeping`: SNAT that keeps the source port where it can, like most home routers
 *   (a port-restricted cone: replies are admitted by conntrack only);
 * - `random`: SNAT --random-fully, a new port for every flow (symmetric-style).
 * Like a home router, it drops unsolicited packets from outside (conntrack state NEW/INVALID on
 * its public leg) instead of tracking them: a tracked unsolicited packet would occupy the port's
 * mapping and make the router pick another port for the site's own flow to that peer.
 * Two hosts of one site get no hairpin through the router's public address.
 */
export interface SiteOptions {
  /** The router's host name (1-13 of [a-z0-9]). */
  router: string;
  nat: 'port-keeping' | 'random';
  /** The site's hosts (not on the public bridge). */
  hosts: string[];
}

export interface SpawnOptions {
  env?: Record<string, string>;
  cwd?: string;
}

/** A long-running program started on a lab host. */
export interface LabProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Everything it wrote to stdout and stderr so far (last 1 MiB). */
  output(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

export interface Lab {
  readonly prefix: string;
  /** Every host: public ones first, then routers and site hosts. */
  readonly hosts: readonly string[];
  /** The lab's /24, e.g. "172.31.57.0/24". */
  readonly subnet: string;
  /** The network namespace of `host`. */
  ns(host: string): string;
  /** The eth0 address of `host` (no prefix length): a site host's LAN address, a router's public one. */
  ip(host: string): string;
  /** The address the public segment sees `host` at: its own, or its site router's. */
  publicIp(host: string): string;
  /** /tmp/lab/<prefix>/<host>: has wg/ (the host's /var/run/wireguard), cron/ (its cron spool) and etc/ (its state dir). */
  dir(host: string): string;
  /** A Runner whose every command runs on `host`. */
  runner(host: string): Runner;
  /** Runs one command on `host` to completion. */
  run(host: string, argv: string[], opts?: RunOptions): Promise<RunResult>;
  /** Starts a long-running program on `host`; destroy() ends it. */
  spawn(host: string, argv: string[], opts?: SpawnOptions): LabProcess;
  /** Ends every process in the lab, deletes its namespaces and its directory. Safe to call twice. */
  destroy(): Promise<void>;
}

let counter = 0;
/** A prefix unique to this process and call: `<stem><pid>-<n>`, so sweepStale can tell dead runs. */
export const uniquePrefix = (stem = 'mt'): string => `${stem}${process.pid}-${counter++}`;

const root = new ExecaRunner();
const HOST = /^[a-z0-9]{1,13}$/;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The third octet of the lab's 172.31.X.0/24, derived from the prefix (FNV-1a), 1-254. */
export function subnetOctet(prefix: string): number {
  let h = 0x811c9dc5;
  for (const ch of Buffer.from(prefix)) h = Math.imul(h ^ ch, 0x01000193) >>> 0;
  return 1 + (h % 254);
}

/**
 * The argv prefix that runs a command on a host: its netns + a private mount ns with its own
 * /var/run/wireguard, its own /etc/hosts (a copy made with the lab, bind-mounted over the real
 * one) and, when `cronDir` is given and cron is installed, its own cron spool
 * (/var/spool/cron/crontabs): `crontab` on a lab host never reads or writes the real one, and an
 * agent's hosts block lands in the host's copy. MESHCTL_HOST_DNS defaults to `hosts` there, so an
 * agent never asks the machine's systemd-resolved (shared over D-Bus, not per namespace) to
 * change a link: a test that wants another mode sets it.
 */
export function hostWrapper(ns: string, wgDir: string, cronDir = '', hostsFile = ''): string[] {
  return ['ip', 'netns', 'exec', ns, 'unshare', '-m', '--propagation', 'private', 'sh', '-c',
    'mkdir -p /var/run/wireguard && mount --bind "$1" /var/run/wireguard && ' +
    '{ [ -z "$2" ] || [ ! -d /var/spool/cron/crontabs ] || mount --bind "$2" /var/spool/cron/crontabs; } && ' +
    '{ [ -z "$3" ] || mount --bind "$3" /etc/hosts; } && export MESHCTL_HOST_DNS="${MESHCTL_HOST_DNS:-hosts}" && shift 3 && exec "$@"',
    'sh', wgDir, cronDir, hostsFile];
}

/** hostWrapper for `host` of a lab whose directory is `dir` (its wg/, cron/ and hosts). */
export const hostWrapperIn = (ns: string, dir: string): string[] => hostWrapper(ns, `${dir}/wg`, `${dir}/cron`, `${dir}/hosts`);

/** Builds the lab: hub namespace with bridge br0, one namespace per host wired to it. Undoes itself on failure. */
export async function createLab(opts: LabOptions): Promise<Lab> {
  const { prefix } = opts;
  const sites = opts.sites ?? [];
  const publicHosts = [...opts.hosts, ...sites.map((s) => s.router)];
  const siteOf = new Map(sites.flatMap((s, k) => s.hosts.map((h, i) => [h, { site: s, k, i }] as const)));
  const hosts = [...publicHosts, ...siteOf.keys()];
  for (const h of hosts) if (!HOST.test(h) || h === 'hub') throw new Error(`lab host name "${h}" must be 1-13 of [a-z0-9] and not "hub"`);
  if (new Set(hosts).size !== hosts.length) throw new Error('lab host names must be unique');
  const octet = subnetOctet(prefix);
  const hub = `${prefix}-hub`;
  const nodes = publicHosts.filter((h) => h !== 'ctl');
  const ipOf = (h: string) => {
    const s = siteOf.get(h);
    if (s) return `192.168.${s.k + 1}.${10 + s.i}`;
    return `172.31.${octet}.${h === 'ctl' ? 2 : 11 + nodes.indexOf(h)}`;
  };
  if (nodes.length > 200) throw new Error('a lab holds at most 200 nodes');
  const known = (h: string) => {
    if (!hosts.includes(h)) throw new Error(`lab ${prefix} has no host "${h}"`);
    return h;
  };
  const dirOf = (h: string) => `${LAB_ROOT}/${prefix}/${known(h)}`;
  const runners = new Map(hosts.map((h) => [h, new ExecaRunner({ prefix: hostWrapperIn(`${prefix}-${h}`, dirOf(h)) })]));
  const procs: LabProcess[] = [];
  let destroyed: Promise<void> | undefined;

  const lab: Lab = {
    prefix,
    hosts,
    subnet: `172.31.${octet}.0/24`,
    ns: (h) => `${prefix}-${known(h)}`,
    ip: (h) => ipOf(known(h)),
    publicIp: (h) => ipOf(siteOf.get(known(h))?.site.router ?? h),
    dir: dirOf,
    runner: (h) => runners.get(known(h))!,
    run: (h, argv, o) => lab.runner(h).run(argv, o),
    spawn(h, argv, o = {}) {
      const p = startProcess([...hostWrapperIn(lab.ns(h), dirOf(h)), ...argv], o);
      procs.push(p);
      return p;
    },
    destroy: () => {
      release();
      return (destroyed ??= teardown(prefix, [hub, ...hosts.map((h) => `${prefix}-${h}`)], procs));
    },
  };
  // Ctrl-C of the run (or a runner's SIGTERM) still ends every process and namespace of this lab.
  const release = onInterrupt(() => lab.destroy());

  try {
    for (const h of hosts) {
      for (const sub of ['wg', 'etc']) await mkdir(`${dirOf(h)}/${sub}`, { recursive: true, mode: 0o700 });
      await mkdir(`${dirOf(h)}/cron`);
      await chmod(`${dirOf(h)}/cron`, 0o1730); // as Debian's /var/spool/cron/crontabs
      // The host's own /etc/hosts (bind-mounted over the real one by hostWrapper).
      await writeFile(`${dirOf(h)}/hosts`, `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t${h}\n`, { mode: 0o644 });
    }
    await root.run(['ip', 'netns', 'add', hub]);
    await root.run(['ip', '-n', hub, 'link', 'set', 'lo', 'up']);
    await root.run(['ip', '-n', hub, 'link', 'add', 'br0', 'type', 'bridge']);
    await root.run(['ip', '-n', hub, 'link', 'set', 'br0', 'up']);
    for (const h of publicHosts) {
      const ns = lab.ns(h);
      await root.run(['ip', 'netns', 'add', ns]);
      // Both ends are created directly in their namespaces: no name ever appears in the root namespace.
      await root.run(['ip', 'link', 'add', `v-${h}`, 'netns', hub, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      await root.run(['ip', '-n', hub, 'link', 'set', `v-${h}`, 'master', 'br0', 'up']);
      await root.run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
      await root.run(['ip', '-n', ns, 'addr', 'add', `${ipOf(h)}/24`, 'dev', 'eth0']);
      await root.run(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
    }
    for (const [k, s] of sites.entries()) await addSite(lab, s, k);
  } catch (e) {
    await lab.destroy().catch(() => {});
    throw e;
  }
  return lab;
}

/** Builds site `s` (the k-th): its router's LAN bridge, forwarding and NAT, and its hosts. */
async function addSite(lab: Lab, s: SiteOptions, k: number): Promise<void> {
  const r = lab.ns(s.router);
  const lan = `192.168.${k + 1}`;
  const inR = (argv: string[]) => root.run(['ip', 'netns', 'exec', r, ...argv]);
  await root.run(['ip', '-n', r, 'link', 'add', 'br-lan', 'type', 'bridge']);
  await root.run(['ip', '-n', r, 'addr', 'add', `${lan}.1/24`, 'dev', 'br-lan']);
  await root.run(['ip', '-n', r, 'link', 'set', 'br-lan', 'up']);
  for (const h of s.hosts) {
    const ns = lab.ns(h);
    await root.run(['ip', 'netns', 'add', ns]);
    await root.run(['ip', 'link', 'add', `l-${h}`, 'netns', r, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    await root.run(['ip', '-n', r, 'link', 'set', `l-${h}`, 'master', 'br-lan', 'up']);
    await root.run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    await root.run(['ip', '-n', ns, 'addr', 'add', `${lab.ip(h)}/24`, 'dev', 'eth0']);
    await root.run(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
    await root.run(['ip', '-n', ns, 'route', 'add', 'default', 'via', `${lan}.1`]);
  }
  await inR(['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
  await inR(['iptables', '-t', 'nat', '-A', 'POSTROUTING', '-o', 'eth0', '-j', 'SNAT', '--to-source', lab.ip(s.router), ...(s.nat === 'random' ? ['--random-fully'] : [])]);
  for (const chain of ['INPUT', 'FORWARD']) {
    await inR(['iptables', '-A', chain, '-i', 'eth0', '-m', 'conntrack', '--ctstate', 'NEW,INVALID', '-j', 'DROP']);
  }
}

function startProcess(argv: string[], o: SpawnOptions): LabProcess {
  const child = spawnChild(argv[0]!, argv.slice(1), { env: { ...process.env, ...o.env }, ...(o.cwd ? { cwd: o.cwd } : {}), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (b: Buffer) => void (out = (out + b.toString()).slice(-(1 << 20)));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    child.once('exit', (code) => resolve(code));
    child.once('error', (e) => ((out += String(e)), resolve(null)));
  });
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    child,
    // `ip netns exec`, `unshare` and `sh -c exec` each exec in place: this pid is the program itself.
    pid: child.pid ?? -1,
    output: () => out,
    exited,
    async stop(graceMs = 3000) {
      if (!running()) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => running() && child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(t);
    },
  };
}

// A zombie counts as gone: this machine's pid 1 reaps orphans (daemonized wireguard-go) ~1.3 s late.
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0] !== 'Z';
  } catch {
    return false;
  }
};

/** Ends every process in namespace `ns` (SIGTERM, then SIGKILL after 2 s). wireguard-go daemons end here. */
export async function killNamespacePids(ns: string): Promise<number[]> {
  const r = await root.run(['ip', 'netns', 'pids', ns], { allowFail: true });
  const pids = r.stdout.split(/\s+/).filter(Boolean).map(Number).filter((p) => p > 1 && p !== process.pid);
  for (const p of pids) if (alive(p)) process.kill(p, 'SIGTERM');
  for (let waited = 0; waited < 2000 && pids.some(alive); waited += 50) await sleep(50);
  for (const p of pids) if (alive(p)) process.kill(p, 'SIGKILL');
  return pids;
}

async function teardown(prefix: string, namespaces: string[], procs: LabProcess[]): Promise<void> {
  const errors: unknown[] = [];
  const attempt = async (f: () => Promise<unknown>) => f().catch((e) => void errors.push(e));
  await Promise.all(procs.map((p) => attempt(() => p.stop())));
  await Promise.all(namespaces.map((ns) => attempt(() => killNamespacePids(ns))));
  for (const ns of namespaces) {
    await attempt(async () => {
      const r = await root.run(['ip', 'netns', 'del', ns], { allowFail: true });
      if (r.exitCode !== 0 && !/No such file/.test(r.stderr)) throw new Error(`deleting namespace ${ns}: ${r.stderr}`);
    });
  }
  await attempt(() => rm(`${LAB_ROOT}/${prefix}`, { recursive: true, force: true }));
  if (errors.length) throw new AggregateError(errors, `tearing down lab ${prefix}: ${errors.length} step(s) failed`);
}

/** Removes namespaces and directories left by crashed runs of `stem` (prefixes whose pid is dead). Returns their prefixes. */
export async function sweepStale(stem: string): Promise<string[]> {
  const esc = stem.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const own = new RegExp(`^(${esc}(\\d+)-\\d+)(?:-[a-z0-9]+)?$`);
  const stale = (name: string) => {
    const m = own.exec(name);
    return m !== null && Number(m[2]) !== process.pid && !alive(Number(m[2])) ? m[1]! : undefined;
  };
  const listed = (await root.run(['ip', 'netns', 'list'])).stdout.split('\n').map((l) => l.split(' ')[0]!).filter(Boolean);
  const dirs = await readdir(LAB_ROOT).catch(() => [] as string[]);
  const namespaces = listed.filter((n) => stale(n) !== undefined);
  const prefixes = [...new Set([...namespaces, ...dirs].map(stale).filter((p): p is string => p !== undefined))];
  for (const p of prefixes) await teardown(p, namespaces.filter((n) => stale(n) === p), []);
  return prefixes;
}
