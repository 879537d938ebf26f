import { Flags } from '@oclif/core';
import { MeshCommand } from '../cli/base.ts';

export default class Server extends MeshCommand {
  static override summary = 'Run the controller: admin REST API and node gRPC API on its embedded store.';
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
    'public-host': Flags.string({ description: 'host nodes dial, put in join tokens (default: first non-loopback IPv4)', env: 'MESHCTL_PUBLIC_HOST' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Server);
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
      ...(flags['public-host'] !== undefined ? { publicHost: flags['public-host'] } : {}),
      ...(flags['relay-addr'] !== undefined ? { relayAddr: flags['relay-addr'] } : {}),
      ...(flags['no-relay'] ? { noRelay: true } : {}),
    });
    const log = makeLogger('controller');
    const ctl = await startController(cfg, log, this.config.version);
    await new Promise<void>((resolve) => {
      const stop = (sig: string) => {
        log.info({ signal: sig }, 'shutting down');
        resolve();
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    });
    await ctl.close();
  }
}
