import { MeshCommand } from '../cli/base.ts';
import { agentFlags, agentEnv } from '../cli/agent-flags.ts';

export default class Agent extends MeshCommand {
  static override summary = 'Run the node daemon: follow the controller for every joined network (as root).';
  static override description = 'Keeps each WireGuard interface in step with pushed updates, rebuilds the mesh from its cache when the controller is down, and serves `meshctl status` on a root-only socket.';
  static override enableJsonFlag = false;
  static override flags = { ...agentFlags };

  async run(): Promise<void> {
    const { flags } = await this.parse(Agent);
    const { startAgent } = await import('../agent/daemon.ts');
    const log = (m: string) => process.stderr.write(`${new Date().toISOString()} ${m}\n`);
    const agent = await startAgent(agentEnv(flags, log));
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
    log('stopping; interfaces stay up');
    await agent.stop();
  }
}
