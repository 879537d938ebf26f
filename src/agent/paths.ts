// Where the agent keeps its state: --config-dir (MESHCTL_CONFIG_DIR, default /etc/meshctl).
import { join } from 'node:path';

export const DEFAULT_CONFIG_DIR = '/etc/meshctl';

export const networksDir = (configDir: string) => join(configDir, 'networks');
export const stateFile = (configDir: string, network: string) => join(networksDir(configDir), `${network}.json`);
/** Present while `meshctl leave` of `network` runs (so a running agent can tell a leave from a removal). */
export const leavingFile = (configDir: string, network: string) => join(networksDir(configDir), `${network}.leaving`);
export const keyFile = (configDir: string, network: string) => join(networksDir(configDir), `${network}.key`);

/** `mesh-<network>` cut to the kernel's 15-character limit. */
export const defaultInterface = (network: string) => `mesh-${network}`.slice(0, 15);
