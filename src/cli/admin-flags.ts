// Flags every admin command takes to reach the controller's REST API.
import { Flags } from '@oclif/core';
import { AdminClient } from './admin-client.ts';

export const adminFlags = {
  server: Flags.string({ description: 'controller admin API URL', env: 'MESHCTL_SERVER', helpGroup: 'CONTROLLER' }),
  token: Flags.string({ description: 'admin token (default: <data-dir>/admin.token)', env: 'MESHCTL_TOKEN', helpGroup: 'CONTROLLER' }),
  'data-dir': Flags.string({ description: 'controller data directory to read admin.token from', env: 'MESHCTL_DATA_DIR', helpGroup: 'CONTROLLER' }),
};

export function clientFrom(flags: { server?: string | undefined; token?: string | undefined; 'data-dir'?: string | undefined }): AdminClient {
  return new AdminClient({
    ...(flags.server ? { server: flags.server } : {}),
    ...(flags.token ? { token: flags.token } : {}),
    ...(flags['data-dir'] ? { dataDir: flags['data-dir'] } : {}),
  });
}
