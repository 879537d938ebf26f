// Flags every admin command takes to reach the controller's REST API, and the one function that
// turns them into a client (so every admin command resolves contexts and tokens the same way).
import * as Flags from '@oclif/core/flags';
import { AdminClient } from './admin-client.ts';

export const adminFlags = {
  server: Flags.string({ description: 'controller admin API URL (default https://127.0.0.1:8081)', env: 'MESHCTL_SERVER', helpGroup: 'CONTROLLER' }),
  token: Flags.string({ description: 'admin token or login token (default: the current context, else <data-dir>/admin.token)', env: 'MESHCTL_TOKEN', helpGroup: 'CONTROLLER' }),
  context: Flags.string({ description: 'saved login context to use (see `meshctl login --list`)', env: 'MESHCTL_CONTEXT', helpGroup: 'CONTROLLER' }),
  'data-dir': Flags.string({ description: 'controller data directory to read admin.token and the CA from', env: 'MESHCTL_DATA_DIR', helpGroup: 'CONTROLLER' }),
};

export function clientFrom(flags: { server?: string | undefined; token?: string | undefined; context?: string | undefined; 'data-dir'?: string | undefined }): AdminClient {
  return new AdminClient({
    ...(flags.server ? { server: flags.server } : {}),
    ...(flags.token ? { token: flags.token } : {}),
    ...(flags.context ? { context: flags.context } : {}),
    ...(flags['data-dir'] ? { dataDir: flags['data-dir'] } : {}),
  });
}
