// The WireGuard adapter: an idempotent desired-state setter. setConfig(cfg) twice changes nothing
// the second time. Kernel interface where the kernel has WireGuard, else wireguard-go.
import { readFile, stat } from 'node:fs/promises';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { MeshError } from '../core/errors.ts';
import { publicKeyOf } from '../core/wg-key.ts';
import { diffWg, type WgActual, type WgChange, type WgConfig, type WgPeer } from '../core/wg-diff.ts';
import { CommandError, type Runner } from './runner.ts';
import { parseIpAddrJson, parseWgDump } from './wg-parse.ts';

export type { WgActual, WgChange, WgConfig, WgPeer, WgPeerState } from '../core/wg-diff.ts';

const INSTALL_HINT = 'Install userspace WireGuard: apt-get install -y wireguard-go wireguard-tools (or load the wireguard kernel module)';
const NO_DEVICE = /does not exist|No such device|Cannot find device/i;

/** Throws INVALID_ARGUMENT unless `name` is a valid Linux interface name (1-15 chars, no / or space). */
export function assertInterfaceName(name: string): void {
  if (!/^[A-Za-z0-9_=+.-]{1,15}$/.test(name)) {
    throw new MeshError('INVALID_ARGUMENT', `interface name "${name}" is not valid: use 1-15 letters, digits, or _=+.-`, {
      hint: 'Pick a shorter name with --interface, e.g. mesh-office',
    });
  }
}

/** wireguard-go's start-up banner ("Running wireguard-go is not required because this kernel has
 * first class support for WireGuard…", in a box) is printed whatever happens next: it is never
 * the reason. What it failed on, in the user's terms, with what to do. */
export function wireguardGoReason(stderr: string): { message: string; hint: string } {
  const lines = stderr.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !/^[┌│└─┐┘]/.test(l) && !/^WARNING WARNING/.test(l));
  const text = lines.join('; ');
  if (/\/dev\/net\/tun|TUN device/i.test(text)) {
    return { message: `it could not open a TUN device (${text})`, hint: 'Load the tun module (modprobe tun) and check /dev/net/tun exists; in a container, pass the device in (--device /dev/net/tun) and CAP_NET_ADMIN' };
  }
  if (/UAPI listen error|socket in use/i.test(text)) {
    return { message: `its control socket is taken (${text})`, hint: 'Another wireguard-go serves an interface of that name: pick another --interface, or stop it' };
  }
  if (/permission|not permitted/i.test(text)) return { message: `permission denied (${text})`, hint: 'Run meshctl as root (sudo), or grant CAP_NET_ADMIN' };
  if (text === '') return { message: 'it exited without saying why', hint: `Run \`wireguard-go -f IFNAME\` by hand to see the error; ${INSTALL_HINT}` };
  return { message: text, hint: INSTALL_HINT };
}

/** Makes interface `name` exist: kernel WireGuard, else wireguard-go; leaves an existing one. Says which. */
export async function ensureInterface(runner: Runner, name: string): Promise<'existing' | 'kernel' | 'userspace'> {
  assertInterfaceName(name);
  if ((await runner.run(['ip', 'link', 'show', 'dev', name], { allowFail: true })).exitCode === 0) return 'existing';
  const k = await runner.run(['ip', 'link', 'add', 'dev', name, 'type', 'wireguard'], { allowFail: true });
  if (k.exitCode === 0) return 'kernel';
  if (/Operation not permitted/i.test(k.stderr)) {
    throw new MeshError('NOT_ROOT', `creating interface ${name}: permission denied`, { hint: 'Run meshctl as root (sudo), or grant CAP_NET_ADMIN' });
  }
  if (!/Unknown device type|not supported/i.test(k.stderr)) throw new CommandError(['ip', 'link', 'add', 'dev', name, 'type', 'wireguard'], k);
  // A WG_PROCESS_FOREGROUND=1 inherited from our environment would keep wireguard-go in the
  // foreground and hang this call; unset it so it daemonizes.
  let u;
  try {
    u = await runner.run(['env', '-u', 'WG_PROCESS_FOREGROUND', 'wireguard-go', name], { allowFail: true });
  } catch (e) {
    throw new MeshError('WIREGUARD_UNAVAILABLE', `creating interface ${name}: the kernel has no WireGuard and wireguard-go could not run`, { hint: INSTALL_HINT, cause: e });
  }
  if (u.exitCode !== 0) {
    if (u.exitCode === 127) throw new MeshError('WIREGUARD_UNAVAILABLE', `creating interface ${name}: the kernel has no WireGuard and wireguard-go is not installed`, { hint: INSTALL_HINT });
    const why = wireguardGoReason(u.stderr);
    throw new MeshError('WIREGUARD_UNAVAILABLE', `creating interface ${name} with wireguard-go: ${why.message}`, { hint: why.hint });
  }
  return 'userspace';
}

/** The live state of interface `name`, or null when it does not exist. Never includes the private key. */
export async function readActual(runner: Runner, name: string): Promise<WgActual | null> {
  assertInterfaceName(name);
  const ip = await runner.run(['ip', '-j', 'addr', 'show', 'dev', name], { allowFail: true });
  if (ip.exitCode !== 0) {
    if (NO_DEVICE.test(ip.stderr)) return null;
    throw new CommandError(['ip', '-j', 'addr', 'show', 'dev', name], ip);
  }
  const link = parseIpAddrJson(ip.stdout);
  const dump = parseWgDump((await runner.run(['wg', 'show', name, 'dump'])).stdout);
  return { interface: name, ...dump, ...link };
}

/** The argv that carries out one change. */
export function changeArgv(c: WgChange): string[] {
  const n = c.interface;
  switch (c.kind) {
    case 'set-private-key': return ['wg', 'set', n, 'private-key', c.privateKeyPath];
    case 'set-listen-port': return ['wg', 'set', n, 'listen-port', String(c.listenPort)];
    case 'add-peer':
    case 'update-peer': {
      const p = c.peer;
      return ['wg', 'set', n, 'peer', p.publicKey, ...(p.endpoint === null ? [] : ['endpoint', p.endpoint]),
        'allowed-ips', p.allowedIps.join(','), 'persistent-keepalive', String(p.keepalive)];
    }
    case 'remove-peer': return ['wg', 'set', n, 'peer', c.publicKey, 'remove'];
    case 'set-address': return ['ip', 'addr', 'replace', c.address, 'dev', n];
    case 'remove-address': return ['ip', 'addr', 'del', c.address, 'dev', n];
    case 'link-up': return ['ip', 'link', 'set', 'dev', n, 'mtu', String(c.mtu), 'up'];
  }
}

/** Resolves a host name to one IP address (an endpoint's host that is not an IP literal). */
export type Resolve = (host: string) => Promise<string>;

const RESOLVE_TIMEOUT_MS = 5000;

/** The system resolver, with a deadline: `wg set` itself would retry a failing name for
 * up to 90 s, holding up every change behind it. */
export const systemResolve: Resolve = (host) =>
  new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`resolving ${host}: timed out after ${RESOLVE_TIMEOUT_MS} ms`)), RESOLVE_TIMEOUT_MS);
    lookup(host).then(
      (r) => { clearTimeout(timer); resolve(r.address); },
      (e: NodeJS.ErrnoException) => { clearTimeout(timer); reject(new Error(`resolving ${host}: ${e.code ?? e.message}`)); },
    );
  });

/** A change that failed, and why. */
export interface FailedChange {
  change: WgChange;
  error: Error;
}

const isPeerChange = (c: WgChange) => c.kind === 'add-peer' || c.kind === 'update-peer';

/** The endpoint with its host resolved to an IP (an IP literal is kept as it is). */
async function resolveEndpoint(endpoint: string, resolve: Resolve): Promise<string> {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(endpoint) ?? /^([^:]+):(\d+)$/.exec(endpoint);
  if (!m || isIP(m[1]!)) return endpoint;
  const ip = await resolve(m[1]!);
  return ip.includes(':') ? `[${ip}]:${m[2]}` : `${ip}:${m[2]}`;
}

/** Carries out `changes` in order, each on its own: one that fails never keeps the others (the
 * other peers, the node's own address and link) from being made. A peer whose endpoint cannot
 * be resolved is still configured, without an endpoint (it can still reach us). Returns the
 * failures. */
export async function apply(runner: Runner, changes: readonly WgChange[], resolve: Resolve = systemResolve): Promise<FailedChange[]> {
  const failed: FailedChange[] = [];
  for (const c of changes) {
    try {
      if (isPeerChange(c) && (c as { peer: WgPeer }).peer.endpoint !== null) {
        const peer = (c as { peer: WgPeer }).peer;
        let endpoint: string | null;
        try {
          endpoint = await resolveEndpoint(peer.endpoint!, resolve);
        } catch (err) {
          await runner.run(changeArgv({ ...c, peer: { ...peer, endpoint: null } } as WgChange));
          throw err;
        }
        await runner.run(changeArgv({ ...c, peer: { ...peer, endpoint } } as WgChange));
      } else {
        await runner.run(changeArgv(c));
      }
    } catch (err) {
      failed.push({ change: c, error: err as Error });
    }
  }
  return failed;
}

/** Drops a peer's handshake state by removing it (the next apply adds it back): WireGuard then
 * starts a handshake on the next packet instead of waiting out its 5 s between initiations. */
export async function resetPeer(runner: Runner, iface: string, publicKey: string): Promise<void> {
  assertInterfaceName(iface);
  await runner.run(['wg', 'set', iface, 'peer', publicKey, 'remove']);
}

/** The public key of the base64 X25519 private key in `path`; refuses a key file others can read. */
export async function publicKeyOfFile(path: string): Promise<string> {
  const bad = (why: string, opts: { hint?: string; cause?: unknown } = {}) => new MeshError('CONFIG_INVALID', `reading private key ${path}: ${why}`, opts);
  let mode: number, text: string;
  try {
    mode = (await stat(path)).mode;
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw bad((e as Error).message, { cause: e });
  }
  if (mode & 0o077) throw bad(`mode is ${(mode & 0o777).toString(8)}, readable by others`, { hint: `chmod 600 ${path}` });
  try {
    return publicKeyOf(text);
  } catch (e) {
    throw bad((e as Error).message);
  }
}

const EMPTY = (name: string): WgActual => ({ interface: name, publicKey: null, listenPort: 0, addresses: [], up: false, mtu: 0, peers: [] });

/** The changes setConfig would make now, without making any (for --dry-run). A missing interface counts as empty. */
export async function plan(runner: Runner, cfg: WgConfig): Promise<WgChange[]> {
  const publicKey = await publicKeyOfFile(cfg.privateKeyPath);
  const actual = (await readActual(runner, cfg.interface)) ?? EMPTY(cfg.interface);
  return diffWg(cfg, publicKey, actual);
}

/** Makes the interface match `cfg` (ensure, read, diff, apply); returns the changes made, [] when already in step. */
export async function setConfig(runner: Runner, cfg: WgConfig, resolve: Resolve = systemResolve): Promise<WgChange[]> {
  await ensureInterface(runner, cfg.interface);
  const changes = await plan(runner, cfg);
  const failed = await apply(runner, changes, resolve);
  // A peer that could not be set is reported, and tried again at the next reconcile; a failure
  // of the interface itself (key, port, address, link) fails the whole, after all was tried.
  const fatal = failed.find((f) => !isPeerChange(f.change));
  if (fatal) throw fatal.error;
  const why = new Map(failed.map((f) => [f.change, f.error.message]));
  return changes.map((c) => (why.has(c) ? { ...c, describe: () => `${c.describe()} (failed: ${why.get(c)})` } : c));
}

/** True when a link called `name` exists on this host (of any kind). */
export async function interfaceExists(runner: Runner, name: string): Promise<boolean> {
  assertInterfaceName(name);
  return (await runner.run(['ip', 'link', 'show', 'dev', name], { allowFail: true })).exitCode === 0;
}

/** 'absent', 'wireguard' (kernel or wireguard-go: `wg` can talk to it) or 'other' (e.g. a network card). */
export async function interfaceKind(runner: Runner, name: string): Promise<'absent' | 'wireguard' | 'other'> {
  assertInterfaceName(name);
  const r = await runner.run(['wg', 'show', name, 'listen-port'], { allowFail: true });
  if (r.exitCode === 0) return 'wireguard';
  return (await interfaceExists(runner, name)) ? 'other' : 'absent';
}

/**
 * Deletes interface `name` only when it is a WireGuard interface (the caller has already checked
 * that meshctl recorded it as its own); false when it is absent. Anything else, such as the
 * host's network card under a recorded name, is refused and left alone.
 */
export async function removeWireGuardInterface(runner: Runner, name: string): Promise<boolean> {
  const kind = await interfaceKind(runner, name);
  if (kind === 'absent') return false;
  if (kind === 'other') {
    throw new MeshError('COMMAND_FAILED', `interface ${name} is not a WireGuard interface, so meshctl leaves it alone`, {
      hint: `Check \`ip -d link show ${name}\`; meshctl only removes the WireGuard interfaces it created`,
    });
  }
  return removeInterface(runner, name);
}

/** Deletes interface `name` (which also ends its wireguard-go); no-op when it is absent. */
export async function removeInterface(runner: Runner, name: string): Promise<boolean> {
  assertInterfaceName(name);
  const r = await runner.run(['ip', 'link', 'del', 'dev', name], { allowFail: true });
  if (r.exitCode === 0) return true;
  if (NO_DEVICE.test(r.stderr)) return false;
  throw new CommandError(['ip', 'link', 'del', 'dev', name], r);
}
