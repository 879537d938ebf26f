// The controller's relays: its own (in-process, `meshctl server`) and standalone ones that
// registered over RelayService.Attach (`meshctl relay`). Picks one per pair by rendezvous hashing
// over the relays' names (core/relay-token.ts: the same pick after a restart, and a relay that
// goes away moves only its own pairs), and keeps the assignments in <data-dir>/relay-pairs.json,
// so that a restarted controller serves the same pairs on the same relay ports at once: its own
// relay binds them again, a standalone relay (which kept forwarding meanwhile) confirms them when
// it re-attaches, or loses them after a grace period.
import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { pickRelay } from '../../core/relay-token.ts';
import { writeFileDurably } from '../../platform/durable-file.ts';

/** What a relay must know to open a pair. */
export interface RelayPairSpec {
  /** The pair key (core/candidates.ts pairKey). */
  id: string;
  network: string;
  /** Node ids, a < b. */
  a: string;
  b: string;
  /** The host each node's datagrams must come from (null: any). */
  expectA: string | null;
  expectB: string | null;
}

/** A pair opened on a relay: nodes a and b send to host:ports[0] and host:ports[1]. */
export interface RelayAssignment extends RelayPairSpec {
  relay: string;
  host: string;
  ports: [number, number];
}

/** One relay, local or remote. */
export interface RelayBackend {
  readonly name: string;
  /** The address nodes send to. */
  readonly host: string;
  /** Opens the pair's two ports (`ports`: take these again where free); resolves with them. */
  open(spec: RelayPairSpec, ports?: readonly [number, number]): Promise<[number, number]>;
  close(id: string): void;
  /** Ends its link (a standalone relay's stream) when the controller stops. */
  end?(): void;
}

/** Who hears about pairs that appear (restored, or held by a relay that attached) and pairs lost (their relay went away). */
export interface RelayListener {
  adopt(a: RelayAssignment): void;
  lost(a: RelayAssignment): void;
}

/** What PathBook needs of the relays. */
export interface RelayProvider {
  /** True when some relay can take pairs now. */
  available(): boolean;
  open(spec: RelayPairSpec): Promise<RelayAssignment>;
  close(id: string): void;
  setListener(l: RelayListener): void;
}

/** The name the controller's own relay goes by. */
export const LOCAL_RELAY = '(controller)';
/** How long a restored pair of a standalone relay waits for that relay to attach again. */
export const REATTACH_GRACE_MS = 20_000;

export class RelayPool implements RelayProvider {
  private readonly backends = new Map<string, RelayBackend>();
  private readonly assigned = new Map<string, RelayAssignment>();
  /** Restored pairs whose relay has not attached since the restart. */
  private readonly unconfirmed = new Set<string>();
  private listener: RelayListener = { adopt: () => {}, lost: () => {} };
  private saving: Promise<void> = Promise.resolve();
  private dirty = false;
  private graceTimer: NodeJS.Timeout | undefined;
  /** Set by stop(): the relays' streams ending with this process must not move their pairs. */
  private stopped = false;
  private readonly log: Logger;
  private readonly file: string | null;
  private readonly graceMs: number;

  constructor(log: Logger, file: string | null, graceMs = REATTACH_GRACE_MS) {
    this.log = log;
    this.file = file;
    this.graceMs = graceMs;
  }

  setListener(l: RelayListener): void {
    this.listener = l;
  }

  available(): boolean {
    return this.backends.size > 0;
  }

  /** The relays attached now: name and host, with the number of pairs each serves. */
  list(): { name: string; host: string; pairs: number }[] {
    return [...this.backends.values()].map((b) => ({ name: b.name, host: b.host, pairs: [...this.assigned.values()].filter((a) => a.relay === b.name).length }));
  }

  /** Pairs and where they are, for tests and diagnostics. */
  assignments(): RelayAssignment[] {
    return [...this.assigned.values()];
  }

  /** Adds the controller's own relay, then brings back the pairs the last run had assigned. */
  async start(local: RelayBackend | null): Promise<void> {
    if (local) this.backends.set(local.name, local);
    let saved: RelayAssignment[] = [];
    if (this.file) {
      try {
        const doc = JSON.parse(await readFile(this.file, 'utf8')) as { pairs?: RelayAssignment[] };
        saved = Array.isArray(doc.pairs) ? doc.pairs.filter(validAssignment) : [];
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.log.warn({ err, file: this.file }, 'reading the relay pairs of the last run; starting without them');
      }
    }
    for (const a of saved) {
      if (local && a.relay === local.name) {
        try {
          const ports = await local.open(a, a.ports);
          this.assigned.set(a.id, { ...a, host: local.host, ports });
        } catch (err) {
          this.log.warn({ err, pair: a.id }, 'opening a relay pair of the last run');
          continue;
        }
      } else if (a.relay !== LOCAL_RELAY) {
        this.assigned.set(a.id, a);
        this.unconfirmed.add(a.id);
      } else {
        continue; // the controller's own relay is off now
      }
      this.listener.adopt(this.assigned.get(a.id)!);
    }
    if (saved.length) this.log.info({ pairs: this.assigned.size, awaiting: this.unconfirmed.size }, 'relay pairs of the last run restored');
    if (this.unconfirmed.size) {
      this.graceTimer = setTimeout(() => {
        for (const id of [...this.unconfirmed]) {
          const a = this.assigned.get(id);
          this.unconfirmed.delete(id);
          if (!a) continue;
          this.log.warn({ pair: id, relay: a.relay }, 'its relay did not come back; the pair moves');
          this.drop(a);
        }
      }, this.graceMs);
      this.graceTimer.unref();
    }
    this.save();
  }

  /** A standalone relay attached (again), holding `held`. A relay of the same name is replaced. */
  attach(b: RelayBackend, held: readonly RelayAssignment[]): void {
    this.backends.set(b.name, b);
    const holds = new Set<string>();
    for (const h of held) {
      const cur = this.assigned.get(h.id);
      if (cur && cur.relay !== b.name) {
        b.close(h.id); // the pair moved to another relay meanwhile
        continue;
      }
      holds.add(h.id);
      this.unconfirmed.delete(h.id);
      const a: RelayAssignment = { ...h, relay: b.name, host: b.host };
      const same = cur && cur.host === a.host && cur.ports[0] === a.ports[0] && cur.ports[1] === a.ports[1];
      if (same) continue;
      this.assigned.set(a.id, a);
      this.listener.adopt(a);
    }
    // What this relay should hold but does not (it restarted): lost.
    for (const a of [...this.assigned.values()]) if (a.relay === b.name && !holds.has(a.id)) this.drop(a);
    this.log.info({ relay: b.name, host: b.host, pairs: holds.size }, 'relay attached');
    this.save();
  }

  /** A standalone relay's stream ended: its pairs move (only if `b` is still the one of its name). */
  detach(b: RelayBackend): void {
    if (this.stopped || this.backends.get(b.name) !== b) return;
    this.backends.delete(b.name);
    const gone = [...this.assigned.values()].filter((a) => a.relay === b.name);
    this.log.warn({ relay: b.name, pairs: gone.length }, 'relay gone; its pairs move to another relay');
    for (const a of gone) this.drop(a);
    this.save();
  }

  async open(spec: RelayPairSpec): Promise<RelayAssignment> {
    const cur = this.assigned.get(spec.id);
    if (cur) return cur;
    const name = pickRelay(spec.id, [...this.backends.keys()]);
    const b = name === null ? undefined : this.backends.get(name);
    if (!b) throw new Error('no relay is attached');
    const ports = await b.open(spec);
    if (this.backends.get(b.name) !== b) throw new Error(`relay ${b.name} went away while opening the pair`);
    const a: RelayAssignment = { ...spec, relay: b.name, host: b.host, ports };
    this.assigned.set(a.id, a);
    this.save();
    return a;
  }

  close(id: string): void {
    const a = this.assigned.get(id);
    if (!a) return;
    this.assigned.delete(id);
    this.unconfirmed.delete(id);
    this.backends.get(a.relay)?.close(id);
    this.save();
  }

  /** Stops timers and changes, and writes what is assigned: the pairs outlive this process. Call
   * it before the node API closes (the relays' streams end with it). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.graceTimer);
    for (const b of this.backends.values()) b.end?.();
    await this.saving;
  }

  private drop(a: RelayAssignment): void {
    this.assigned.delete(a.id);
    this.unconfirmed.delete(a.id);
    this.listener.lost(a);
  }

  /** Writes the assignments (one write at a time; the last state always lands). */
  private save(): void {
    if (!this.file || this.dirty || this.stopped) return;
    this.dirty = true;
    const file = this.file;
    this.saving = this.saving.then(async () => {
      this.dirty = false;
      const doc = JSON.stringify({ pairs: [...this.assigned.values()] });
      await writeFileDurably(file, Buffer.from(doc)).catch((err) => this.log.warn({ err, file }, 'writing the relay pairs'));
    });
  }
}

const str = (x: unknown) => typeof x === 'string';
function validAssignment(a: RelayAssignment): boolean {
  return !!a && str(a.id) && str(a.network) && str(a.a) && str(a.b) && str(a.relay) && str(a.host) &&
    Array.isArray(a.ports) && a.ports.length === 2 && a.ports.every((p) => Number.isInteger(p) && p > 0 && p < 65536);
}
