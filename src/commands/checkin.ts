import * as Flags from '@oclif/core/flags';
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
    const gone = rs.filter((r) => r.removed !== undefined);
    let unscheduled: string[] = [];
    if (gone.length && !flags['dry-run']) {
      // The last network went away: the crontab line (or unit) that runs this has nothing left to do.
      const { removeScheduleIfLast } = await import('../agent/schedule.ts');
      const env = agentEnv(flags, (m) => this.logToStderr(m));
      unscheduled = await removeScheduleIfLast(env.runner, env.configDir);
    }
    for (const r of gone) {
      this.logToStderr(`${r.network}: ${r.removed}. ${flags['dry-run'] ? 'A check-in would remove' : 'Removed'} its interface and local state here.`);
    }
    if (unscheduled.length) this.logToStderr(`No network is left: removed the ${unscheduled.join(' and ')}.`);
    this.out(
      table(['NETWORK', 'VERSION', 'CHANGED', 'PEERS'], rs.map((r) => [r.network, r.version, r.removed !== undefined ? 'removed' : r.changed ? 'yes' : 'no', r.peers])) +
        (changes.length ? `\n\n${flags['dry-run'] ? 'Would apply (dry run, nothing changed):' : 'Applied:'}\n${changes.join('\n')}` : ''),
    );
    return rs;
  }
}
