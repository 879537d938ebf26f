import { Flags } from '@oclif/core';
import { MeshCommand } from '../cli/base.ts';
import { agentFlags, agentEnv, configDirOf } from '../cli/agent-flags.ts';
import { table } from '../cli/table.ts';
import type { CheckInResult } from '../agent/node.ts';

export default class CheckIn extends MeshCommand {
  static override summary = 'Check in with the controller once and apply any changes (for cron).';
  static override flags = { ...agentFlags, network: Flags.string({ char: 'n', description: 'only this network (default: every joined one)' }) };

  async run(): Promise<CheckInResult[]> {
    const { flags } = await this.parse(CheckIn);
    const { checkInAll } = await import('../agent/node.ts');
    const { viaAgent } = await import('../agent/control.ts');
    // With an agent running, ask it to resync rather than applying changes beside it.
    const rs = await viaAgent<CheckInResult[]>(configDirOf(flags), 'Resync', flags.network, () =>
      checkInAll(agentEnv(flags, (m) => this.logToStderr(m)), flags.network),
    );
    this.out(table(['NETWORK', 'VERSION', 'CHANGED', 'PEERS'], rs.map((r) => [r.network, r.version, r.changed ? 'yes' : 'no', r.peers])));
    return rs;
  }
}
