// Flags of the agent commands, and the environment they run in.
import * as Flags from '@oclif/core/flags';
import { DEFAULT_CONFIG_DIR } from '../agent/paths.ts';
import type { AgentEnv } from '../agent/node.ts';
import { ExecaRunner } from '../platform/runner.ts';
import { nudge } from '../platform/nudge.ts';
import { MeshError } from '../core/errors.ts';
import type { HostDnsMode } from '../agent/dns/manager.ts';
import { DEFAULT_HOSTS_FILE } from '../platform/hosts-file.ts';

export const agentFlags = {
  'config-dir': Flags.string({ description: `agent state directory (default ${DEFAULT_CONFIG_DIR})`, env: 'MESHCTL_CONFIG_DIR' }),
  'hosts-file': Flags.string({ description: 'hosts file that gets the marked block of mesh names where resolved is absent or in cron mode (default /etc/hosts)', env: 'MESHCTL_HOSTS_FILE' }),
  'host-dns': Flags.string({ options: ['auto', 'resolved', 'hosts', 'off'], description: 'how the host uses the mesh names: systemd-resolved per link, the hosts file, or not at all (default auto: resolved where it runs, else the hosts file)', env: 'MESHCTL_HOST_DNS' }),
};

type AgentFlagValues = { 'config-dir'?: string | undefined; 'hosts-file'?: string | undefined; 'host-dns'?: string | undefined };

/** --config-dir (or MESHCTL_CONFIG_DIR), else the default. */
export const configDirOf = (flags: { 'config-dir'?: string | undefined }): string => flags['config-dir'] ?? DEFAULT_CONFIG_DIR;

/** The agent environment; refuses non-root callers when `needsRoot` (they cannot configure WireGuard). */
export function agentEnv(flags: AgentFlagValues, log: (m: string) => void, needsRoot = true): AgentEnv {
  if (needsRoot && process.getuid?.() !== 0) {
    throw new MeshError('NOT_ROOT', 'this command configures WireGuard and must run as root', { hint: 'Run it with sudo' });
  }
  return {
    configDir: configDirOf(flags),
    runner: new ExecaRunner(),
    log,
    nudge,
    // Named here, always: leave and teardown undo only what the environment names.
    hostsFile: flags['hosts-file'] || DEFAULT_HOSTS_FILE,
    hostDns: (flags['host-dns'] ?? 'auto') as HostDnsMode,
  };
}

/** `env` with the node's DNS: the responder and host integration for the daemon, only the hosts
 * file for a check-in from cron (no long-running responder there). */
export async function withDns(env: AgentEnv, responder: boolean): Promise<AgentEnv> {
  const { DnsManager } = await import('../agent/dns/manager.ts');
  return { ...env, dns: new DnsManager({ runner: env.runner, responder, ...(env.hostDns ? { hostDns: env.hostDns } : {}), ...(env.hostsFile ? { hostsFile: env.hostsFile } : {}), ...(env.log ? { log: env.log } : {}) }) };
}
