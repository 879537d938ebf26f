// The agent's local control API: gRPC on a Unix socket that only root can open (mode 0600 in
// a 0700 directory). `meshctl status` and `meshctl checkin` talk to a running agent through it.
import * as grpc from '@grpc/grpc-js';
import { chmod, mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { MeshError } from '../core/errors.ts';
import { agentControlService } from '../rpc/proto.ts';
import { toGrpcError, fromGrpcError } from '../rpc/errors.ts';
import { DEFAULT_CONFIG_DIR } from './paths.ts';

/** /run/meshctl/agent.sock for the default config dir, else <config-dir>/agent.sock (one agent per config dir). */
export function socketPath(configDir: string, env: NodeJS.ProcessEnv = process.env): string {
  if (env.MESHCTL_AGENT_SOCKET) return env.MESHCTL_AGENT_SOCKET;
  return configDir === DEFAULT_CONFIG_DIR ? '/run/meshctl/agent.sock' : join(configDir, 'agent.sock');
}

export interface ControlHandlers {
  status(network: string): Promise<unknown>;
  resync(network: string): Promise<unknown>;
}

/** Serves the control API on `path`; returns a closer. */
export async function serveControl(path: string, h: ControlHandlers): Promise<() => Promise<void>> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await rm(path, { force: true });
  const server = new grpc.Server();
  const wrap = (fn: (network: string) => Promise<unknown>): grpc.handleUnaryCall<{ network: string }, { json: string }> => (call, cb) => {
    fn(call.request.network).then(
      (r) => cb(null, { json: JSON.stringify(r) }),
      (err: unknown) => cb(toGrpcError(err) as grpc.ServiceError),
    );
  };
  server.addService(agentControlService().service, { Status: wrap(h.status), Resync: wrap(h.resync) });
  // The socket is born in a private directory (mkdtemp: 0700), made 0600 there, and only then
  // renamed into place: nobody else can ever connect. (Setting the process-wide umask around the
  // bind instead leaked it, across the await, into every file other code created meanwhile.)
  const nest = await mkdtemp(join(dirname(path), '.agent-sock-'));
  const born = join(nest, 's');
  try {
    await new Promise<void>((resolve, reject) => server.bindAsync(`unix://${born}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())));
    await chmod(born, 0o600);
    await rename(born, path);
  } finally {
    await rm(nest, { recursive: true, force: true });
  }
  return () =>
    new Promise<void>((resolve) => {
      server.tryShutdown(() => {
        void rm(path, { force: true }).then(() => resolve());
      });
    });
}

/** Calls the running agent; resolves to undefined when no agent listens there. Throws NOT_ROOT when the socket refuses us. */
export async function callAgent<T>(path: string, method: 'Status' | 'Resync', network: string): Promise<T | undefined> {
  if (!existsSync(path)) return undefined;
  const Ctor = agentControlService();
  const client = new Ctor(`unix://${path}`, grpc.credentials.createInsecure()) as unknown as grpc.Client & Record<string, (...a: unknown[]) => void>;
  try {
    return await new Promise<T | undefined>((resolve, reject) => {
      client[method]!({ network }, { deadline: Date.now() + 30_000 }, (err: grpc.ServiceError | null, res: { json: string }) => {
        if (!err) return resolve(JSON.parse(res.json) as T);
        if (/EACCES|permission denied/i.test(err.details)) {
          return reject(new MeshError('NOT_ROOT', `the agent's control socket ${path} is root only`, { hint: 'Run it with sudo' }));
        }
        if (err.code === grpc.status.UNAVAILABLE && /ECONNREFUSED|ENOENT/i.test(err.details)) return resolve(undefined); // stale socket: no agent
        reject(fromGrpcError(err, path));
      });
    });
  } finally {
    client.close();
  }
}

/** Asks the agent running for `configDir` (over its socket); without one, does it here with `direct`. */
export async function viaAgent<T>(configDir: string, method: 'Status' | 'Resync', network: string | undefined, direct: () => Promise<T>): Promise<T> {
  return (await callAgent<T>(socketPath(configDir), method, network ?? '')) ?? (await direct());
}
