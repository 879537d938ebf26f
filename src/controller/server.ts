// `meshctl server`: opens the store, makes TLS material and the admin token on first start,
// and serves the admin API (and the node API).
import { mkdir, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { FastifyInstance } from 'fastify';
import { MeshError } from '../core/errors.ts';
import { formatHostPort, parseHostPort } from '../core/address.ts';
import { publicAddrs, type ServerConfig } from './config.ts';
import { openStore } from './store/open.ts';
import { ensureTls } from './tls.ts';
import { ensureAdminToken } from './admin-token.ts';
import { AdminService } from './services/admin.ts';
import { routeTableOf, buildApi } from './api/server.ts';
import type { ControllerContext } from './context.ts';
import { HealthBook, sharedHealthOf } from './health-book.ts';
import type { MeshNode } from '../core/types.ts';
import { NodeApi } from './node-api/service.ts';
import { ChangeHistory } from './node-api/change-history.ts';
import { WatchHub } from './node-api/watch-hub.ts';
import { ViewBuilder } from './node-api/view-builder.ts';
import { DnsExporter } from './dns-export.ts';
import { startNodeGrpc, type NodeGrpcServer } from './node-api/grpc-server.ts';
import { PathBook } from './nat/path-book.ts';
import { Relay } from '../relay/relay.ts';
import { LOCAL_RELAY, RelayPool } from './nat/relay-pool.ts';
import { relayServiceHandlers } from './nat/relay-service.ts';
import { ensureRelayToken } from './nat/relay-token-file.ts';
import { relayService } from '../rpc/proto.ts';
import { setStateSources } from './metrics.ts';
import { startEventFeed, type EventFeed } from './events/feed.ts';
import type { EventLogOptions } from './events/event-log.ts';
import type { StatusTrackerOptions } from './events/status-tracker.ts';
import { startMetricsServer, type MetricsServer, type Readiness } from './metrics-server.ts';

export interface RunningController {
  ctx: ControllerContext;
  /** https://host:port (http:// under --api-insecure) of the admin API, when serving it. */
  apiUrl: string | null;
  /** The bound port of the node API, when serving it. */
  grpcPort: number | null;
  /** The bound UDP port of the relay, when running one. */
  relayPort: number | null;
  /** Every relay (its own and standalone ones) and the pairs each serves. */
  relays: RelayPool;
  /** The admin operations (as the API serves them). */
  admin: AdminService;
  /** The bound port of the metrics listener, when serving it. */
  metricsPort: number | null;
  /** Every admin API route (method, fastify URL pattern), for tests that must cover them all. */
  apiRoutes: readonly { method: string; url: string }[];
  nodeApi: NodeApi;
  hub: WatchHub;
  /** The admin event stream's feed (GET /api/v1/events). */
  events: EventFeed;
  /**
   * Shuts down within a deadline: stops accepting at once, gives open requests and Watch streams
   * `graceMs` (default 5 s) to finish, then closes every connection hard (a vanished node's
   * half-open connection would otherwise hold the process for minutes), then closes the store.
   */
  close(graceMs?: number): Promise<void>;
}

/** Default time open requests and streams get to finish on shutdown. */
export const SHUTDOWN_GRACE_MS = 5000;

const within = <T>(p: Promise<T>, ms: number): Promise<T | 'late'> => {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p.finally(() => clearTimeout(timer)), new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), ms)))]);
};

function listenError(err: unknown, what: string, addr: string): MeshError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') return new MeshError('INVALID_ARGUMENT', `${what} address ${addr} is already in use`, { hint: 'Stop what listens there, or pick another address with the matching --*-addr flag' });
  if (code === 'EADDRNOTAVAIL') return new MeshError('INVALID_ARGUMENT', `${what} address ${addr} is not an address of this host`, { hint: 'Use 0.0.0.0 or one of this host\'s addresses' });
  if (code === 'EACCES') return new MeshError('NOT_ROOT', `no permission to listen on ${addr}`, { hint: 'Use a port above 1023 or run as root' });
  return new MeshError('INTERNAL', `listening on ${addr}: ${(err as Error).message}`, { cause: err });
}

export interface StartOptions {
  /** Failed admin authentications allowed per source address and minute (default 10). */
  authFailuresPerMinute?: number;
  /** Event stream tuning (tests): history, buffer bound, ping and sweep intervals. */
  events?: EventLogOptions & StatusTrackerOptions;
  /** Called as each node API connection is accepted, before TLS allocates its buffers
   * (`meshctl server`: a trim of the C heap, controller/malloc-trim.ts). */
  beforeConnection?: () => void;
}

/** The admin API URL to put in login tokens: the bound address, or the public host for a wildcard. */
function apiPublicUrl(cfg: ServerConfig, port: number): string {
  const host = cfg.api && cfg.api.host !== '0.0.0.0' && cfg.api.host !== '::' ? cfg.api.host : parseHostPort(publicAddrs(cfg.publicHost, 50051)[0]!, 'public host').host;
  return `${cfg.apiInsecure ? 'http' : 'https'}://${formatHostPort({ host, port })}`;
}

/** Closes the admin API: no new connections; after `graceMs`, every open one is destroyed. */
async function closeApi(api: FastifyInstance, graceMs: number): Promise<void | 'late'> {
  const closed = api.close();
  if ((await within(closed, graceMs)) !== 'late') return;
  api.server.closeAllConnections();
  return within(closed, 1000);
}

export async function startController(cfg: ServerConfig, log: Logger, version: string, opts: StartOptions = {}): Promise<RunningController> {
  await mkdir(cfg.dataDir, { recursive: true, mode: 0o700 });
  await chmod(cfg.dataDir, 0o700);
  const store = await openStore(cfg.store, cfg.dataDir, log);
  let api: FastifyInstance | undefined;
  let grpcServer: NodeGrpcServer | undefined;
  let dnsFiles: DnsExporter | undefined;
  let relay: Relay | undefined;
  let paths: PathBook | undefined;
  let pool: RelayPool | undefined;
  let metricsServer: MetricsServer | undefined;
  let feed: EventFeed | undefined;
  try {
    const hosts = publicAddrs(cfg.publicHost, cfg.grpc?.port || 50051).map((a) => parseHostPort(a, 'public host').host);
    const tls = await ensureTls(cfg.dataDir, hosts, cfg.caDir);
    const ctx: ControllerContext = {
      store,
      log,
      grpcPublicAddr: publicAddrs(cfg.publicHost, cfg.grpc?.port || 50051).join(','), // port 0: set once bound
      caPin: tls.caPin,
      dataDir: cfg.dataDir,
      now: () => new Date(),
    };
    // admin.token exists (and its secret is accepted) before anything listens; once the API's port
    // is known it is rewritten if that changed the URL it carries.
    const tokenAt = (port: number) => ensureAdminToken(store, cfg.dataDir, { apiUrl: apiPublicUrl(cfg, port), caPin: tls.caPin });
    let token = await tokenAt(cfg.api?.port ?? 8081);
    // Several controllers on one database pool node health through it (see health-book.ts).
    const health = new HealthBook(sharedHealthOf(store));
    health.follow((l) => store.subscribe(l));
    const views = new ViewBuilder(store);
    // before the hub: the hub's fan-out shares the events the history made for each change
    const history = new ChangeHistory(store);
    let relayPort: number | null = null;
    if (cfg.relay) {
      const addr = formatHostPort(cfg.relay);
      relay = new Relay({ host: cfg.relay.host, port: cfg.relay.port, log: (m) => log.debug(m) });
      try {
        relayPort = await relay.start();
      } catch (err) {
        throw listenError(err, 'relay', addr);
      }
      log.info({ addr: formatHostPort({ host: cfg.relay.host, port: relayPort }) }, 'relay listening');
    }
    // Nodes dial the relay at its own address when it has one, else at this controller's first public host.
    const relayHost = cfg.relay && cfg.relay.host !== '0.0.0.0' && cfg.relay.host !== '::' ? cfg.relay.host : parseHostPort(cfg.publicHost.split(',')[0]!.trim(), 'public host', 1).host;
    const r = relay;
    pool = new RelayPool(log, join(cfg.dataDir, 'relay-pairs.json'));
    paths = new PathBook(views, store, pool, log);
    // The pairs of the last run come back before nodes connect, on the same ports where free.
    await pool.start(r ? { name: LOCAL_RELAY, host: relayHost, open: async (spec, ports) => (await r.open(spec.id, spec.expectA, spec.expectB, ports)).ports, close: (id) => r.close(id) } : null);
    const relays = pool;
    // Standalone relays register with the secret of <data-dir>/relay.token (written once the node API's port is known).
    let relaySecret: string | null = null;
    const nodeApi = new NodeApi(ctx, health, views, paths, history);
    const hub = new WatchHub(store, views, history, log);
    dnsFiles = new DnsExporter(store, cfg.dataDir, log);
    // In the background: a controller with many networks must not start slower for it.
    void dnsFiles.writeAll().catch((err) => log.warn({ err }, 'writing the DNS hosts files'));
    paths.setSink({ send: (network, nodeId, u) => hub.sendPaths(network, nodeId, u), connected: (network, nodeId) => hub.isConnected(network, nodeId) });
    const pathBook = paths;
    nodeApi.reports.follow((l) => store.subscribe(l));
    const admin = new AdminService(ctx, health, pathBook, nodeApi.reports);
    // Status moves with time: on its own store, the controller sees every contact and handshake
    // report, and looks at a node when its deadline passes; controllers sharing a store read
    // every node on each sweep (another one's check-ins are not seen here).
    const deadlines = sharedHealthOf(store) ? {} : { changesAt: (n: MeshNode, now: number) => admin.statusChangesAt(n, now), now: () => ctx.now().getTime() };
    feed = startEventFeed((l) => store.subscribe(l), (network) => admin.listNodes(network), (network, id) => admin.findNode(network, id), { ...deadlines, ...opts.events });
    const events = feed;
    nodeApi.onContact = (node) => events.contact(node.network, node.id);
    nodeApi.onHandshakes = (network, ids) => events.handshakes(network, ids);
    setStateSources({
      // From the status tracker: no store read per scrape.
      nodes: () => events.status.counts(),
      streams: () => hub.size,
    });
    let grpcPort: number | null = null;
    if (cfg.grpc) {
      const addr = formatHostPort(cfg.grpc);
      try {
        grpcServer = await startNodeGrpc({
          host: cfg.grpc.host, port: cfg.grpc.port, tls, api: nodeApi, hub, store, log, onWatch: (node) => pathBook.resend(node),
          ...(opts.beforeConnection ? { beforeConnection: opts.beforeConnection } : {}),
          services: [{ definition: relayService().service, implementation: relayServiceHandlers(relays, () => relaySecret, log) }],
        });
      } catch (err) {
        throw listenError(err, 'gRPC', addr);
      }
      grpcPort = grpcServer.port;
      // A port chosen by the OS (0) must reach join tokens too.
      ctx.grpcPublicAddr = publicAddrs(cfg.publicHost, grpcPort).join(',');
      log.info({ addr: formatHostPort({ host: cfg.grpc.host, port: grpcPort }), publicAddr: ctx.grpcPublicAddr }, 'node API listening');
      const rt = await ensureRelayToken(cfg.dataDir, ctx.grpcPublicAddr.split(','), tls.caPin);
      relaySecret = rt.secret;
      log.info({ path: rt.path }, rt.created ? 'created the relay token (for `meshctl relay`)' : 'relay token (for `meshctl relay`)');
    }
    let apiUrl: string | null = null;
    if (cfg.api) {
      // HTTPS unless asked otherwise; the chain carries the CA so that clients can check their pin.
      const https = cfg.apiInsecure ? undefined : { key: tls.keyPem, cert: `${tls.certPem.trim()}\n${tls.caCertPem.trim()}\n` };
      api = await buildApi(store, admin, log, version, {
        ...(https ? { https } : {}),
        ...(opts.authFailuresPerMinute !== undefined ? { authFailuresPerMinute: opts.authFailuresPerMinute } : {}),
        events: feed.log,
      });
      const addr = formatHostPort(cfg.api);
      try {
        await api.listen({ host: cfg.api.host, port: cfg.api.port });
      } catch (err) {
        throw listenError(err, 'API', addr);
      }
      const bound = api.server.address();
      const port = typeof bound === 'object' && bound ? bound.port : cfg.api.port;
      apiUrl = `${cfg.apiInsecure ? 'http' : 'https'}://${formatHostPort({ host: cfg.api.host === '0.0.0.0' ? '127.0.0.1' : cfg.api.host, port })}`;
      ctx.apiPublicUrl = apiPublicUrl(cfg, port);
      if (port !== cfg.api.port) token = { ...(await tokenAt(port)), created: token.created };
      if (cfg.apiInsecure) log.warn({ url: apiUrl }, 'the admin API is plain HTTP (--api-insecure): admin tokens cross the network in clear');
      log.info({ url: apiUrl, dataDir: cfg.dataDir }, 'admin API listening');
    }
    if (token.revoked) log.warn({ path: token.path }, 'the admin token in this file was revoked: it no longer works');
    else log.info({ path: token.path }, token.created ? 'created the admin token' : 'admin token');
    let metricsPort: number | null = null;
    if (cfg.metrics) {
      const { addr: m, explicit } = cfg.metrics;
      let closed = false;
      const ready: Readiness = {
        problems: () => [
          ...(closed ? ['shutting down'] : []),
          ...(cfg.grpc && !grpcServer ? ['the node API is not listening'] : []),
          ...(cfg.api && !api?.server.listening ? ['the admin API is not listening'] : []),
        ],
      };
      try {
        metricsServer = await startMetricsServer(m.host, m.port, ready, log);
        const inner = metricsServer;
        metricsServer = { port: inner.port, close: () => ((closed = true), inner.close()) };
        metricsPort = metricsServer.port;
        log.info({ url: `http://${formatHostPort({ host: m.host, port: metricsPort })}/metrics` }, 'metrics listening (also /healthz, /readyz; no authentication)');
      } catch (err) {
        if (explicit) throw listenError(err, 'metrics', formatHostPort(m));
        // The default address may be a local Prometheus's own (9090): do not refuse to start for it.
        log.warn({ addr: formatHostPort(m), err: (err as Error).message }, 'not serving metrics: the default metrics address is taken; pick one with --metrics-addr (or --no-metrics)');
      }
    }
    return {
      ctx,
      apiUrl,
      grpcPort,
      relayPort,
      relays,
      admin,
      metricsPort,
      apiRoutes: api ? routeTableOf(api) : [],
      nodeApi,
      hub,
      events: feed,
      close: async (graceMs = SHUTDOWN_GRACE_MS) => {
        const t0 = Date.now();
        // The relay pairs are kept as they are now: stopping the node API ends the relays' streams.
        await pool?.stop();
        await metricsServer?.close();
        // Both stop accepting now; each gets the same grace, then is closed hard.
        const closing = [
          grpcServer ? within(grpcServer.close(graceMs), graceMs + 1000) : Promise.resolve(),
          api ? closeApi(api, graceMs) : Promise.resolve(),
        ];
        const [g, a] = await Promise.all(closing);
        if (g === 'late' || a === 'late') log.warn({ grpc: g === 'late', api: a === 'late' }, 'connections did not close in time; left them to the exit');
        feed?.close();
        dnsFiles?.close();
        await dnsFiles?.idle();
        paths?.close();
        await relay?.stop();
        await store.close();
        log.info({ ms: Date.now() - t0 }, 'shut down');
      },
    };
  } catch (err) {
    feed?.close();
    await metricsServer?.close().catch(() => {});
    await grpcServer?.close().catch(() => {});
    paths?.close();
    await pool?.stop().catch(() => {});
    await relay?.stop().catch(() => {});
    await api?.close().catch(() => {});
    dnsFiles?.close();
    await store.close();
    throw err;
  }
}
