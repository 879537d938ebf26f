// The controller's CoreDNS-ready files: `<data-dir>/dns/<domain>.hosts` per network, replaced
// atomically whenever a change nodes can see lands (names, records, the domain), removed with the
// network. `meshctl dns export` prints the same text and a Corefile stanza that serves it.
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { corefileStanza, hostsFileOf } from '../core/dns-hosts.ts';
import type { Zone, ZoneHost } from '../core/dns-zone.ts';
import type { Network } from '../core/types.ts';
import { replaceFile } from '../platform/durable-file.ts';
import type { Store } from './store/store.ts';
import { counter } from './metrics.ts';

const written = counter({ name: 'meshctl_dns_hosts_files_written_total', help: 'CoreDNS hosts files (<data-dir>/dns/<domain>.hosts) rewritten because names changed, by network.', labelNames: ['network'] as const });
const failures = counter({ name: 'meshctl_dns_hosts_file_failures_total', help: 'Failed writes of a CoreDNS hosts file, by network.', labelNames: ['network'] as const });

export interface DnsExport {
  network: string;
  domain: string;
  /** Where the controller keeps the file. */
  path: string;
  hosts: string;
  corefile: string;
}

export const dnsDir = (dataDir: string) => join(dataDir, 'dns');
export const hostsPath = (dataDir: string, domain: string) => join(dnsDir(dataDir), `${domain}.hosts`);

/** The zone of a network as the controller sees it: approved nodes and custom records. */
export async function zoneFromStore(store: Store, net: Network): Promise<Zone> {
  const hosts = new Map<string, ZoneHost>();
  for (const n of await store.listNodes(net.name)) if (n.approved) hosts.set(n.name, { a: n.address });
  for (const r of await store.listRecords(net.name)) if (!hosts.has(r.name)) hosts.set(r.name, r.type === 'CNAME' ? { cname: r.address } : { a: r.address });
  return { domain: net.domain, serial: net.version, hosts };
}

export async function exportOf(store: Store, dataDir: string, net: Network): Promise<DnsExport> {
  const path = hostsPath(dataDir, net.domain);
  return { network: net.name, domain: net.domain, path, hosts: hostsFileOf(await zoneFromStore(store, net)), corefile: corefileStanza(net.domain, path) };
}

/** Keeps the files in step with the store. Writes of one network never overlap. */
export class DnsExporter {
  private readonly store: Store;
  private readonly dataDir: string;
  private readonly log: Logger | undefined;
  private readonly unsubscribe: () => void;
  /** network -> the domain its file was last written under. */
  private readonly domains = new Map<string, string>();
  private chain: Promise<void> = Promise.resolve();
  private readonly dirty = new Set<string>();

  private readonly coalesceMs: number;

  constructor(store: Store, dataDir: string, log?: Logger, coalesceMs = 1000) {
    this.coalesceMs = coalesceMs;
    this.store = store;
    this.dataDir = dataDir;
    this.log = log;
    this.unsubscribe = store.subscribe((c) => this.schedule(c.network));
  }

  /** Writes every network's file (at start). */
  async writeAll(): Promise<void> {
    const nets = await this.store.listNetworks();
    // Files of networks deleted while the controller was down.
    const keep = new Set(nets.map((n) => `${n.domain}.hosts`));
    for (const f of await readdir(dnsDir(this.dataDir)).catch(() => [] as string[])) {
      if (f.endsWith('.hosts') && !keep.has(f)) await rm(join(dnsDir(this.dataDir), f), { force: true });
    }
    for (const n of nets) this.schedule(n.name);
    await this.idle();
  }

  /** Resolves when every scheduled write is done. */
  idle(): Promise<void> {
    return this.chain;
  }

  private schedule(network: string): void {
    if (this.dirty.has(network)) return; // a write already queued reads the latest state
    this.dirty.add(network);
    // A burst of changes (a busy admin API, many joins) makes one write, not one per change:
    // each write reads the whole network, so at most one a second (the store-crash test, 32 writes
    // in flight, ran 20% slower with 100 ms and missed its deadline).
    this.chain = this.chain.then(() => new Promise<void>((resolve) => setTimeout(resolve, this.coalesceMs))).then(async () => {
      this.dirty.delete(network);
      await this.write(network).catch((err) => {
        failures.inc({ network });
        this.log?.warn({ err, network }, 'writing the DNS hosts file');
      });
    });
  }

  private async write(network: string): Promise<void> {
    const net = await this.store.getNetwork(network);
    const before = this.domains.get(network);
    if (before && before !== net?.domain) {
      await rm(hostsPath(this.dataDir, before), { force: true });
      this.domains.delete(network);
    }
    if (!net) return;
    await mkdir(dnsDir(this.dataDir), { recursive: true, mode: 0o755 });
    const ex = await exportOf(this.store, this.dataDir, net);
    const current = await readFile(ex.path, 'utf8').catch(() => null);
    // Derived data, rewritten at every start: atomic for readers (CoreDNS), no fsync on the write path.
    if (current !== ex.hosts) {
      await replaceFile(ex.path, Buffer.from(ex.hosts), 0o644);
      written.inc({ network });
    }
    this.domains.set(network, net.domain);
  }

  close(): void {
    this.unsubscribe();
  }
}
