// The controller's Prometheus metrics (prom-client). One registry per process; every part of the
// controller (and the relay and DNS responder as they arrive) adds its families here through
// counter()/gauge()/histogram(), which return the existing family when the name is taken, so
// modules can declare what they use without an import order.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type CounterConfiguration, type GaugeConfiguration, type HistogramConfiguration } from 'prom-client';

/** The registry /metrics serves. */
export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'meshctl_process_' });

function family<T>(name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

/** The counter `name`, created on first use. Names start with `meshctl_` and end with `_total`. */
export function counter<L extends string>(cfg: Omit<CounterConfiguration<L>, 'registers'>): Counter<L> {
  return family(cfg.name, () => new Counter<L>({ ...cfg, registers: [registry] }));
}

/** The gauge `name`, created on first use (a `collect` callback may compute it at scrape time). */
export function gauge<L extends string>(cfg: Omit<GaugeConfiguration<L>, 'registers'>): Gauge<L> {
  return family(cfg.name, () => new Gauge<L>({ ...cfg, registers: [registry] }));
}

/** The histogram `name`, created on first use. */
export function histogram<L extends string>(cfg: Omit<HistogramConfiguration<L>, 'registers'>): Histogram<L> {
  return family(cfg.name, () => new Histogram<L>({ ...cfg, registers: [registry] }));
}

// The controller's own families. Values that are state (nodes, streams) are read at scrape time
// through sources the running controller sets; events are counted where they happen.

export const checkIns = counter({ name: 'meshctl_checkins_total', help: 'Node check-ins answered, by network.', labelNames: ['network'] as const });
export const joins = counter({ name: 'meshctl_joins_total', help: 'Nodes admitted by join, by network.', labelNames: ['network'] as const });
export const failedJoins = counter({ name: 'meshctl_join_failures_total', help: 'Joins refused, by error code.', labelNames: ['code'] as const });
export const rateLimited = counter({ name: 'meshctl_rate_limited_total', help: 'Requests refused by a rate limit, by what was limited.', labelNames: ['what'] as const });
export const catchUps = counter({
  name: 'meshctl_catchups_total',
  help: 'Nodes that were behind, by how they were brought up to date: "view" (a whole view), "deltas" (the changes since their version), "in-step" (what they held was current, by its digest); and where (check-in, watch).',
  labelNames: ['how', 'via'] as const,
});
export const pushLatency = histogram({
  name: 'meshctl_push_latency_seconds',
  help: 'Time from a change being committed to its event being written to a Watch stream.',
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
});
export const storeFlush = histogram({
  name: 'meshctl_store_flush_seconds',
  help: 'Time to put the embedded store durably on disk (export, write, fsync, rename).',
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
});
export const storeFlushGroup = histogram({
  name: 'meshctl_store_flush_group_size',
  help: 'Writes made durable by one flush (group commit).',
  buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
});

// process.memoryUsage().arrayBuffers (Buffers and ArrayBuffers, part of external memory): the
// default metrics have the V8 heap and external memory but not this part of it.
gauge({
  name: 'meshctl_process_nodejs_array_buffers_bytes',
  help: 'Memory of ArrayBuffers and Buffers (part of nodejs_external_memory_bytes), in bytes.',
  collect() {
    this.set(process.memoryUsage().arrayBuffers);
  },
});

type NodeCounts = { network: string; status: string; count: number }[];
let nodeSource: (() => Promise<NodeCounts>) | null = null;
let streamSource: (() => number) | null = null;

/** Sets what the node and stream gauges read at scrape time (the running controller's store and hub). */
export function setStateSources(s: { nodes: () => Promise<NodeCounts>; streams: () => number }): void {
  nodeSource = s.nodes;
  streamSource = s.streams;
}

gauge({
  name: 'meshctl_nodes',
  help: 'Nodes by network and status (pending, healthy, stale, down).',
  labelNames: ['network', 'status'] as const,
  async collect() {
    this.reset();
    for (const c of (await nodeSource?.()) ?? []) this.set({ network: c.network, status: c.status }, c.count);
  },
});
gauge({
  name: 'meshctl_watch_streams',
  help: 'Watch streams open from agents.',
  collect() {
    this.set(streamSource?.() ?? 0);
  },
});

/** The exposition text and its content type. */
export async function scrape(): Promise<{ contentType: string; body: string }> {
  return { contentType: registry.contentType, body: await registry.metrics() };
}
