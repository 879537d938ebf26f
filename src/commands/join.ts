import * as Flags from '@oclif/core/flags';
import { MeshCommand } from '../cli/base.ts';
import { agentFlags, agentEnv } from '../cli/agent-flags.ts';
import type { JoinResult } from '../agent/node.ts';

export default class Join extends MeshCommand {
  static override summary = 'Join the network a token names and bring its WireGuard interface up (as root).';
  static override examples = ['<%= config.bin %> join -t mc1.eyJ2Ijox...', '<%= config.bin %> join -t "$TOKEN" --name web1 --endpoint 203.0.113.7'];
  static override flags = {
    ...agentFlags,
    token: Flags.string({ char: 't', required: true, description: 'join token from `meshctl keys create`', env: 'MESHCTL_JOIN_TOKEN' }),
    name: Flags.string({ description: 'node name, unique in the network (default: host name)' }),
    interface: Flags.string({ description: 'WireGuard interface (default mesh-<network>, max 15 chars)' }),
    port: Flags.integer({ description: 'WireGuard listen port (default: the network\'s)' }),
    endpoint: Flags.string({ description: 'HOST[:PORT] peers should dial (default: the address the controller sees)' }),
    daemon: Flags.string({ options: ['systemd', 'cron', 'off'], description: 'what keeps this node in step: a systemd unit running `meshctl agent`, a crontab line running `meshctl checkin`, or nothing (default: systemd where it runs, else cron)' }),
  };

  async run(): Promise<JoinResult & { daemon: string; warning?: string }> {
    const { flags } = await this.parse(Join);
    const { join } = await import('../agent/node.ts');
    const { installSchedule, resolveDaemon } = await import('../agent/schedule.ts');
    const { selfCommand } = await import('../cli/self.ts');
    const env = agentEnv(flags, (m) => this.logToStderr(m));
    // Refuse a scheduler this host cannot run before joining, not after.
    const daemon = await resolveDaemon(env.runner, (flags.daemon ?? 'auto') as 'systemd' | 'cron' | 'off' | 'auto');
    const r = await join(env, {
      token: flags.token,
      ...(flags.name !== undefined ? { name: flags.name } : {}),
      ...(flags.interface !== undefined ? { interface: flags.interface } : {}),
      ...(flags.port !== undefined ? { port: flags.port } : {}),
      ...(flags.endpoint !== undefined ? { endpoint: flags.endpoint } : {}),
    });
    const sched = await installSchedule(env.runner, daemon, await selfCommand(this.config.root), env.configDir);
    this.out(
      (r.status === 'pending'
        ? `Joined network ${r.network} as ${r.name} (${r.address}) on ${r.interface}; waiting for an admin: meshctl nodes approve ${r.network} ${r.name}`
        : `Joined network ${r.network} as ${r.name} (${r.address}) on ${r.interface} with ${r.peers} peer${r.peers === 1 ? '' : 's'}.`) +
        `\n${sched.detail}`,
    );
    return { ...r, daemon: sched.daemon, ...(sched.warning ? { warning: sched.warning } : {}) };
  }
}
