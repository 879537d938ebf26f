import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { MeshCommand } from '../../cli/base.ts';
import { adminFlags, clientFrom } from '../../cli/admin-flags.ts';
import { adminApi } from '../../cli/admin-api.ts';
import { nodesTable } from '../../cli/render.ts';
import type { MeshNode } from '../../core/types.ts';

export default class NodesList extends MeshCommand {
  static override summary = 'List nodes of one network, or of all.';
  static override description = 'With --watch: the table, then a line per change and per node status change as they happen (with --json: one JSON object per line: {"event":"snapshot"|"change"|"status"|"reset","id"?,"data"}), until Ctrl-C. A dropped connection is retried with backoff, resuming where it left off.';
  static override hiddenAliases = ['nodes ls'];
  static override args = { network: Args.string({ required: false, description: 'network name (default: all)' }) };
  static override flags = {
    ...adminFlags,
    watch: Flags.boolean({ char: 'w', description: 'keep following changes and status changes (Ctrl-C to stop)' }),
  };

  async run(): Promise<MeshNode[] | undefined> {
    const { args, flags } = await this.parse(NodesList);
    const client = clientFrom(flags);
    if (flags.watch) {
      const { watchNodes } = await import('../../cli/watch-nodes.ts');
      const stop = new AbortController();
      const quit = () => stop.abort();
      process.once('SIGINT', quit);
      process.once('SIGTERM', quit);
      try {
        await watchNodes(client, {
          ...(args.network ? { network: args.network } : {}),
          json: this.jsonEnabled(),
          signal: stop.signal,
          out: (line) => process.stdout.write(line + '\n'),
          note: (line) => process.stderr.write(line + '\n'),
        });
      } finally {
        process.off('SIGINT', quit);
        process.off('SIGTERM', quit);
      }
      return undefined; // every line is printed already (--json too)
    }
    const ns = await adminApi(client).listNodes(args.network);
    this.out(nodesTable(ns));
    return ns;
  }
}
