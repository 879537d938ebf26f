import * as Flags from '@oclif/core/flags';
import { MeshCommand } from '../cli/base.ts';

export default class Server extends MeshCommand {
  static override summary = 'Run the controller: admin REST API and node gRPC API, on the embedded store or PostgreSQL.';
  static override enableJsonFlag = false;
  static override flags = {
    'data-dir': Flags.string({ description: 'state directory (default /var/lib/meshctl as root)', env: 'MESHCTL_DATA_DIR' }),
    config: Flags.string({ description: 'YAML config file (default <data-dir>/server.yaml if present)', env: 'MESHCTL_CONFIG' }),
    'api-addr': Flags.string({ description: 'admin API listen address HOST:PORT (default 0.0.0.0:8081)', env: 'MESHCTL_API_ADDR' }),
    'grpc-addr': Flags.string({ description: 'node API listen address HOST:PORT (default 0.0.0.0:50051)', env: 'MESHCTL_GRPC_ADDR' }),
    'no-api': Flags.boolean({ description: 'do not serve the admin API', env: 'MESHCTL_NO_API' }),
    'no-grpc': Flags.boolean({ description: 'do not serve the node API', env: 'MESHCTL_NO_GRPC' }),
    'relay-addr': Flags.string({ description: 'UDP address of the ciphertext relay for nodes with no direct path (default 0.0.0.0:3478)', env: 'MESHCTL_RELAY_ADDR' }),
    'no-relay': Flags.boolean({ description: 'do not run the relay', env: 'MESHCTL_NO_RELAY' }),
    'api-insecure': Flags.boolean({ description: 'serve the admin API over plain HTTP (default: HTTPS with a certificate from the controller CA)', env: 'MESHCTL_API_INSECURE' }),
    'metrics-addr': Flags.string({ description: 'unauthenticated /metrics, /healthz, /readyz listener HOST:PORT (default 127.0.0.1:9090; /metrics on the API port needs the admin token)', env: 'MESHCTL_METRICS_ADDR' }),
    'no-metrics': Flags.boolean({ description: 'do not serve the metrics listener', env: 'MESHCTL_NO_METRICS' }),
    'public-host': Flags.string({ description: 'HOST[:PORT][,HOST[:PORT]…] nodes dial, put in join tokens in this order: with several controllers, this one first, then the others (default: first non-loopback IPv4)', env: 'MESHCTL_PUBLIC_HOST' }),
    'ca-dir': Flags.string({ description: 'directory holding the CA (ca.crt, ca.key) that several controllers share (default <data-dir>/tls)', env: 'MESHCTL_CA_DIR' }),
    node: Flags.boolean({ description: 'join every network of this controller as a node too, with its own agent in this process (a public peer that observes NATed nodes); as root', env: 'MESHCTL_NODE' }),
    'node-name': Flags.string({ description: 'the name of the controller\'s node (default: the host name)', env: 'MESHCTL_NODE_NAME' }),
    'node-config-dir': Flags.string({ description: 'agent state directory of the controller\'s node (default <data-dir>/node)', env: 'MESHCTL_NODE_CONFIG_DIR' }),
    store: Flags.string({ description: 'sqlite (embedded, in the data dir; default) or postgres://USER@HOST/DB (several controllers share it)', env: 'MESHCTL_STORE' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Server);
    // Run again with the controller's malloc setting and V8 flag (controller/malloc.ts), when the
    // entry point (bin/run.js, sea-entry.ts) did not already: e.g. flags before the command name.
    await (await import('../controller/malloc.ts')).execTunedController();
    // Heavy modules (fastify, sql.js, grpc) load only for the command that needs them.
    const { resolveServerConfig } = await import('../controller/config.ts');
    const { startController } = await import('../controller/server.ts');
    const { makeLogger } = await import('../cli/logger.ts');
    const cfg = resolveServerConfig({
      ...(flags['data-dir'] !== undefined ? { dataDir: flags['data-dir'] } : {}),
      ...(flags.config !== undefined ? { config: flags.config } : {}),
      ...(flags['api-addr'] !== undefined ? { apiAddr: flags['api-addr'] } : {}),
      ...(flags['grpc-addr'] !== undefined ? { grpcAddr: flags['grpc-addr'] } : {}),
      ...(flags['no-api'] ? { noApi: true } : {}),
      ...(flags['no-grpc'] ? { noGrpc: true } : {}),
      ...(flags['api-insecure'] ? { apiInsecure: true } : {}),
      ...(flags['public-host'] !== undefined ? { publicHost: flags['public-host'] } : {}),
      ...(flags['relay-addr'] !== undefined ? { relayAddr: flags['relay-addr'] } : {}),
      ...(flags['no-relay'] ? { noRelay: true } : {}),
      ...(flags['metrics-addr'] !== undefined ? { metricsAddr: flags['metrics-addr'] } : {}),
      ...(flags['no-metrics'] ? { noMetrics: true } : {}),
      ...(flags.store !== undefined ? { store: flags.store } : {}),
      ...(flags.node ? { node: true } : {}),
      ...(flags['ca-dir'] !== undefined ? { caDir: flags['ca-dir'] } : {}),
    });
    const log = makeLogger('controller');
    // A trim of the C heap before each agent connection takes its long-lived buffers
    // (controller/malloc-trim.ts); a process-wide matter, so here and not in startController.
    const { loadMallocTrim, trimBeforeConnections } = await import('../controller/malloc-trim.ts');
    const trim = await loadMallocTrim();
    if (!trim) log.debug('no malloc_trim here (not glibc, or no node:ffi): connections take the C heap as it is');
    const ctl = await startController(cfg, log, this.config.version, trim ? { beforeConnection: trimBeforeConnections(trim) } : {});
    // Once quiet after a burst of joins or a restart herd, one memory-reducing collection
    // (controller/quiet-gc.ts); a process-wide setting, so here and not in startController.
    const stopCollecting = (await import('../controller/quiet-gc.ts')).collectWhenQuiet(log);
    let node: { stop(): Promise<void> } | undefined;
    if (flags.node || cfg.node) {
      // The controller's own node: an agent in this process, as `meshctl agent` runs it.
      const { agentEnv, withDns } = await import('../cli/agent-flags.ts');
      const { startServerNode, serverNodeName } = await import('../cli/server-node.ts');
      const { join: joinPath } = await import('node:path');
      const agentLog = (m: string) => process.stderr.write(`${new Date().toISOString()} node: ${m}\n`);
      try {
        const hostDns = process.env.MESHCTL_HOST_DNS;
        const env = await withDns(agentEnv({
          'config-dir': flags['node-config-dir'] ?? joinPath(cfg.dataDir, 'node'),
          // As `meshctl agent` reads them (its flags' environment variables).
          ...(hostDns && ['auto', 'resolved', 'hosts', 'off'].includes(hostDns) ? { 'host-dns': hostDns } : {}),
          ...(process.env.MESHCTL_HOSTS_FILE ? { 'hosts-file': process.env.MESHCTL_HOSTS_FILE } : {}),
        }, agentLog), true);
        node = await startServerNode(ctl, env, { name: serverNodeName(flags['node-name']) });
      } catch (err) {
        await ctl.close();
        throw err;
      }
    }
    const { SHUTDOWN_GRACE_MS } = await import('../controller/server.ts');
    await new Promise<void>((resolve) => {
      let stopping = false;
      const stop = (sig: string) => {
        if (stopping) {
          // A second signal: the operator does not want to wait for the grace period.
          log.warn({ signal: sig }, 'second signal: exiting now');
          process.exit(0);
        }
        stopping = true;
        log.info({ signal: sig, graceMs: SHUTDOWN_GRACE_MS }, 'shutting down: no new connections; open ones get the grace period, then are closed');
        resolve();
      };
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGTERM', () => stop('SIGTERM'));
    });
    // Backstop: whatever still holds the event loop after the grace period and the store's close
    // (a socket stuck in the kernel), the process ends.
    setTimeout(() => {
      log.warn('shutdown took too long; exiting');
      process.exit(0);
    }, SHUTDOWN_GRACE_MS + 10_000).unref();
    stopCollecting();
    await node?.stop();
    await ctl.close();
    process.exit(0);
  }
}
