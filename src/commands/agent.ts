import { MeshCommand } from '../cli/base.ts';
import * as Flags from '@oclif/core/flags';
import { agentFlags, agentEnv, withDns } from '../cli/agent-flags.ts';

export default class Agent extends MeshCommand {
  static override summary = 'Run the node daemon: follow the controller for every joined network (as root).';
  static override description = 'Keeps each WireGuard interface in step with pushed updates, rebuilds the mesh from its cache when the controller is down, and serves `meshctl status` on a root-only socket.';
  static override enableJsonFlag = false;
  static override flags = {
    ...agentFlags,
    'no-dns': Flags.boolean({ description: 'do not answer DNS for the mesh names, nor point the host at them', env: 'MESHCTL_NO_DNS' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Agent);
    const { startAgent } = await import('../agent/daemon.ts');
    const log = (m: string) => process.stderr.write(`${new Date().toISOString()} ${m}\n`);
    const env = agentEnv(flags, log);
    const agent = await startAgent(flags['no-dns'] ? env : await withDns(env, true));
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
    log('stopping; interfaces stay up');
    await agent.stop();
  }
}
