// The node's DNS: answers for its networks' names (the responder) and makes the host use them
// (systemd-resolved per link where it runs, else a marked block in the hosts file). Fed the view
// on every apply, so names change in the same push as peers; torn down when a network is left
// or deleted. Host changes go through src/platform only.
import type { NodeView } from '../../core/view.ts';
import { dnsEnabled, zoneOf, zoneAddresses } from '../../core/dns-zone.ts';
import { hostsLines } from '../../core/dns-hosts.ts';
import type { Runner } from '../../platform/runner.ts';
import { resolvedRunning, revertLinkDns, setLinkDns } from '../../platform/resolved.ts';
import { DEFAULT_HOSTS_FILE, readHostsBlock, setHostsBlock } from '../../platform/hosts-file.ts';
import { DnsServer, DNS_PORT } from './server.ts';

/** How the host is made to use the names: `auto` = resolved where it runs, else the hosts file. */
export type HostDnsMode = 'auto' | 'resolved' | 'hosts' | 'off';
export const HOST_DNS_MODES: readonly HostDnsMode[] = ['auto', 'resolved', 'hosts', 'off'];

/** What `meshctl status` shows under `dns`. */
export interface DnsInfo {
  /** What the host uses: resolved (per-link server), the hosts file block, or nothing. */
  mode: 'resolved' | 'hosts' | 'off';
  domain: string;
  /** "address:53" of this node's responder, when it answers. */
  responder: string | null;
  hostsFile: string | null;
  /** How to query by hand. */
  query: string;
}

export interface DnsOptions {
  runner: Runner;
  /** Run the responder (the daemon); off in cron mode, where only the hosts file is kept. */
  responder: boolean;
  hostDns?: HostDnsMode;
  hostsFile?: string;
  /** Responder port (53; tests use another). */
  port?: number;
  log?: (m: string) => void;
}

interface NetDns {
  iface: string;
  domain: string;
  address: string;
  self: string;
  mode: 'resolved' | 'hosts' | 'off';
  /** What was last set through resolvectl ("iface address domain"), to set it only on change. */
  resolvedKey?: string;
  listening: boolean;
}

/** The per-network DNS hooks the agent calls as it applies views and leaves networks. */
export interface DnsHooks {
  apply(network: string, iface: string, view: NodeView): Promise<void>;
  remove(network: string, iface: string): Promise<void>;
  info(network: string): DnsInfo | undefined;
  close(): Promise<void>;
}

export class DnsManager implements DnsHooks {
  readonly server: DnsServer | null;
  private readonly opts: DnsOptions;
  private readonly nets = new Map<string, NetDns>();
  private resolved: Promise<boolean> | undefined;
  private lastError = new Map<string, string>();

  constructor(opts: DnsOptions) {
    this.opts = opts;
    this.server = opts.responder ? new DnsServer({ port: opts.port ?? DNS_PORT, ...(opts.log ? { log: opts.log } : {}) }) : null;
  }

  get hostsFile(): string {
    return this.opts.hostsFile ?? DEFAULT_HOSTS_FILE;
  }

  /** The host integration in effect for the daemon or a cron check-in. */
  private async hostMode(): Promise<'resolved' | 'hosts' | 'off'> {
    const m = this.opts.hostDns ?? 'auto';
    if (m === 'off') return 'off';
    // Without a responder (cron mode) there is nothing for resolved to point at.
    if (!this.server || m === 'hosts') return 'hosts';
    if (m === 'resolved') return 'resolved';
    this.resolved ??= resolvedRunning(this.opts.runner);
    return (await this.resolved) ? 'resolved' : 'hosts';
  }

  private warn(network: string, what: string, err: unknown): void {
    const msg = `${what}: ${(err as Error).message}`;
    if (this.lastError.get(`${network}:${what}`) === msg) return; // once per distinct failure, not every reconcile
    this.lastError.set(`${network}:${what}`, msg);
    this.opts.log?.(`${network}: dns: ${msg}`);
  }

  async apply(network: string, iface: string, view: NodeView): Promise<void> {
    if (!dnsEnabled(view)) {
      await this.remove(network, iface);
      return;
    }
    const zone = zoneOf(view);
    const prev = this.nets.get(network);
    const mode = await this.hostMode();
    const cur: NetDns = { iface, domain: zone.domain, address: view.self.address, self: view.self.name, mode, listening: prev?.listening ?? false, ...(prev?.resolvedKey ? { resolvedKey: prev.resolvedKey } : {}) };
    if (prev && (prev.domain !== cur.domain || prev.address !== cur.address)) {
      this.server?.zones.delete(prev.domain);
      if (prev.address !== cur.address) {
        await this.server?.unlisten(prev.address);
        cur.listening = false;
      }
    }
    this.nets.set(network, cur);
    if (this.server) {
      this.server.zones.set(zone);
      try {
        await this.server.listen(cur.address);
        cur.listening = true;
        this.lastError.delete(`${network}:listen`);
      } catch (err) {
        this.warn(network, `listening on ${cur.address}:${this.opts.port ?? DNS_PORT}`, err);
      }
    }
    try {
      if (mode === 'resolved') {
        const key = `${iface} ${cur.address} ${zone.domain}`;
        if (cur.resolvedKey !== key) {
          const port = this.opts.port ?? DNS_PORT;
          await setLinkDns(this.opts.runner, iface, port === DNS_PORT ? cur.address : `${cur.address}:${port}`, zone.domain);
          cur.resolvedKey = key;
        }
      } else if (mode === 'hosts') {
        await setHostsBlock(this.hostsFile, network, hostsLines(zoneAddresses(zone)));
      }
    } catch (err) {
      this.warn(network, `setting up ${mode}`, err);
    }
  }

  async remove(network: string, iface: string): Promise<void> {
    const cur = this.nets.get(network);
    this.nets.delete(network);
    if (cur && this.server) {
      this.server.zones.delete(cur.domain);
      await this.server.unlisten(cur.address);
    }
    const mode = cur?.mode ?? (await this.hostMode());
    if (mode === 'resolved') await revertLinkDns(this.opts.runner, iface).catch((err) => this.warn(network, 'reverting resolved', err));
    if (mode !== 'off') await setHostsBlock(this.hostsFile, network, null).catch((err) => this.warn(network, 'removing the hosts block', err));
  }

  info(network: string): DnsInfo | undefined {
    const n = this.nets.get(network);
    if (!n) return undefined;
    const name = `${n.self}.${n.domain}`;
    const responder = this.server && n.listening ? `${n.address}:${this.opts.port ?? DNS_PORT}` : null;
    return {
      mode: n.mode,
      domain: n.domain,
      responder,
      hostsFile: n.mode === 'hosts' ? this.hostsFile : null,
      query: responder ? `dig @${n.address}${(this.opts.port ?? DNS_PORT) === DNS_PORT ? '' : ` -p ${this.opts.port}`} ${name}` : n.mode === 'hosts' ? `getent hosts ${name}` : `resolvectl query ${name}`,
    };
  }

  async close(): Promise<void> {
    await this.server?.close();
  }
}

/** DNS as seen without a running agent: the hosts block if there is one. */
export async function offlineDnsInfo(hostsFile: string | null, network: string, view: NodeView | null): Promise<DnsInfo> {
  const block = hostsFile === null ? null : await readHostsBlock(hostsFile, network);
  const domain = view ? zoneOf(view).domain : '';
  const name = view ? `${view.self.name}.${domain}` : `<node>.${domain}`;
  return block
    ? { mode: 'hosts', domain, responder: null, hostsFile, query: `getent hosts ${name}` }
    : { mode: 'off', domain, responder: null, hostsFile: null, query: view ? `dig @${view.self.address} ${name} (when the agent runs)` : '' };
}

/** Undoes the host changes of `network` from outside the daemon (`meshctl leave`). */
export async function undoHostDns(runner: Runner, network: string, iface: string, hostsFile: string | null, hostDns: HostDnsMode = 'auto'): Promise<void> {
  if (hostDns === 'off') return;
  if ((hostDns === 'auto' && (await resolvedRunning(runner))) || hostDns === 'resolved') await revertLinkDns(runner, iface);
  if (hostsFile !== null) await setHostsBlock(hostsFile, network, null);
}
