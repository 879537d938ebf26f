// Where the agent keeps its state: --config-dir (MESHCTL_CONFIG_DIR, default /etc/meshctl).
import { join } from 'node:path';
import { assertDnsLabel } from '../core/network.ts';

export const DEFAULT_CONFIG_DIR = '/etc/meshctl';

export const networksDir = (configDir: string) => join(configDir, 'networks');

/** `<config-dir>/networks/<network><suffix>`. Checked again here, where the path is built: a
 * network name is a DNS label, so no name can reach outside the networks directory. */
function networkPath(configDir: string, network: string, suffix: string): string {
  assertDnsLabel(network, 'network name');
  return join(networksDir(configDir), `${network}${suffix}`);
}

export const stateFile = (configDir: string, network: string) => networkPath(configDir, network, '.json');
export const keyFile = (configDir: string, network: string) => networkPath(configDir, network, '.key');
/** Present while `meshctl leave` of `network` runs (so a running agent can tell a leave from a removal). */
export const leavingFile = (configDir: string, network: string) => networkPath(configDir, network, '.leaving');

/** `mesh-<network>` cut to the kernel's 15-character limit. */
export const defaultInterface = (network: string) => `mesh-${network}`.slice(0, 15);
