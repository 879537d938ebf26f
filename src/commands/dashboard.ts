import * as Flags from '@oclif/core/flags';
import { MeshCommand } from '../cli/base.ts';
import { adminFlags, clientFrom } from '../cli/admin-flags.ts';
import { MeshError } from '../core/errors.ts';
import { DEFAULT_CONFIG_DIR } from '../agent/paths.ts';

export default class Dashboard extends MeshCommand {
  static override summary = 'A live terminal dashboard of the whole mesh (or, on a node without admin credentials, of this node).';
  static override description = 'Screens: networks, nodes (status, last contact, handshake age, traffic), the pair matrix, node detail, keys, DNS records, gateways and external clients, audit log. Press ? inside for the keys.';
  static override examples = ['<%= config.bin %> dashboard', '<%= config.bin %> dashboard --context prod'];
  static override enableJsonFlag = false;
  static override flags = {
    ...adminFlags,
    'config-dir': Flags.string({ description: `agent state directory, for the node view (default ${DEFAULT_CONFIG_DIR})`, env: 'MESHCTL_CONFIG_DIR' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Dashboard);
    if (!process.stdout.isTTY || !process.stdin.isTTY) {
      throw new MeshError('USAGE', 'meshctl dashboard needs an interactive terminal (stdin and stdout a TTY)', {
        hint: 'For scripts and pipes use the plain commands: meshctl network list, meshctl nodes list NETWORK [--watch], meshctl keys list NETWORK (each with --json)',
      });
    }
    const { socketPath } = await import('../agent/control.ts');
    const { runDashboard } = await import('../tui/run.ts'); // Ink and React load only here
    await runDashboard({ client: clientFrom(flags), agentSocket: socketPath(flags['config-dir'] ?? DEFAULT_CONFIG_DIR) });
  }
}
