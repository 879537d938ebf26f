// Flags of the agent commands, and the environment they run in.
import { Flags } from '@oclif/core';
import { DEFAULT_CONFIG_DIR } from '../agent/paths.ts';
import type { AgentEnv } from '../agent/node.ts';
import { ExecaRunner } from '../platform/runner.ts';
import { nudge } from '../platform/nudge.ts';
import { MeshError } from '../core/errors.ts';

export const agentFlags = {
  'config-dir': Flags.string({ description: `agent state directory (default ${DEFAULT_CONFIG_DIR})`, env: 'MESHCTL_CONFIG_DIR' }),
};

/** --config-dir (or MESHCTL_CONFIG_DIR), else the default. */
export const configDirOf = (flags: { 'config-dir'?: string | undefined }): string => flags['config-dir'] ?? DEFAULT_CONFIG_DIR;

/** The agent environment; refuses non-root callers when `needsRoot` (they cannot configure WireGuard). */
export function agentEnv(flags: { 'config-dir'?: string | undefined }, log: (m: string) => void, needsRoot = true): AgentEnv {
  if (needsRoot && process.getuid?.() !== 0) {
    throw new MeshError('NOT_ROOT', 'this command configures WireGuard and must run as root', { hint: 'Run it with sudo' });
  }
  return { configDir: configDirOf(flags), runner: new ExecaRunner(), log, nudge };
}
