import { Flags } from '@oclif/core';
import { MeshCommand } from '../cli/base.ts';
import { agentFlags, agentEnv, configDirOf, withDns } from '../cli/agent-flags.ts';
import { table } from '../cli/table.ts';
import type { CheckInResult } from '../agent/node.ts';

export default class CheckIn extends MeshCommand {
  static override summary = 'Check in with the controller once and apply any changes (for cron).';
  static override flags = {
    ...agentFlags,
    network: Flags.string({ char: 'n', description: 'only this network (default: every joined one)' }),
    'dry-run': Flags.boolean({ description: 'print what would change on the interface; change nothing' }),
  };

  async run(): Promise<CheckInResult[]> {
    const { flags } = await this.parse(CheckIn);
    const { checkInAll } = await import('../agent/node.ts');
    const { viaAgent } = await import('../agent/control.ts');
    // With an agent running, ask it to resync rather than applying changes beside it.
    const direct = async () => checkInAll(await withDns(agentEnv(flags, (m) => this.logToStderr(m)), false), flags.network, flags['dry-run']);
    // A dry run changes nothing, so it need not go through the agent.
    const rs = flags['dry-run'] ? await direct() : await viaAgent<CheckInResult[]>(configDirOf(flags), 'Resync', flags.network, direct);
    const changes = rs.flatMap((r) => r.changes.map((c) => `  ${r.network}: ${c}`));
    this.out(
      table(['NETWORK', 'VERSION', 'CHANGED', 'PEERS'], rs.map((r) => [r.network, r.version, r.changed ? 'yes' : 'no', r.peers])) +
        (changes.length ? `\n\n${flags['dry-run'] ? 'Would apply (dry run, nothing changed):' : 'Applied:'}\n${changes.join('\n')}` : ''),
    );
    return rs;
  }
}
