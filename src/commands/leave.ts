import * as Flags from '@oclif/core/flags';
import { MeshCommand } from '../cli/base.ts';
import { agentFlags, agentEnv } from '../cli/agent-flags.ts';

export default class Leave extends MeshCommand {
  static override summary = 'Leave a network: tell the controller, remove the interface and local state.';
  static override flags = { ...agentFlags, network: Flags.string({ char: 'n', required: true, description: 'network to leave' }) };

  async run(): Promise<{ network: string; left: true; controllerNotified: boolean; removed: string[] }> {
    const { flags } = await this.parse(Leave);
    const { leave } = await import('../agent/node.ts');
    const { removeScheduleIfLast } = await import('../agent/schedule.ts');
    const env = agentEnv(flags, (m) => this.logToStderr(m));
    const r = await leave(env, flags.network);
    const removed = await removeScheduleIfLast(env.runner, env.configDir);
    this.out(`Left network ${r.network}.` + (removed.length ? ` It was the last one: removed the ${removed.join(' and ')}.` : ''));
    return { ...r, removed };
  }
}
