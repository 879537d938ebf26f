// Entry point: hands oclif the command table in memory, runs, and owns the process exit code.
// oclif's parts, not its index: the index also evaluates what meshctl never uses (semver, to
// check oclif's own engines field, which fails silently in the single executable anyway: no
// package.json on disk), 2-4 ms of every start.
import type { Command } from '@oclif/core/command';
import { Config, Plugin } from '@oclif/core/config';
import * as Errors from '@oclif/core/errors';
import type * as Interfaces from '@oclif/core/interfaces';
import { run } from '@oclif/core/run';
import pkg from '../../package.json' with { type: 'json' };
import { classify, renderHuman, renderJson } from './errors.ts';

// What oclif's index does when it loads, kept: a warning when the current directory is gone.
try {
  process.cwd();
} catch (error) {
  if ((error as { code?: string }).code === 'ENOENT') process.stderr.write('WARNING: current directory does not exist\n');
}

/** Each command id's loader, in the command table's order (src/commands/lazy.ts). */
export type Loaders = Record<string, () => Promise<{ default: Command.Class }>>;

/** meshctl's commands as oclif gets them: the classes themselves (the launcher in bin/ and the
 * tests: src/commands/index.ts), or, in the single executable, a manifest of their metadata made
 * at build time (scripts/oclif-manifest.ts) and a loader per command (every command id, in the
 * command table's order). */
export type CommandTable = { commands: Record<string, Command.Class> } | { manifest: Interfaces.Manifest; loaders: Loaders };

/** Thrown by a loader of the single executable's small part (src/sea-cli.ts) for a command that
 * only the whole application carries: main() passes it on instead of reporting it. */
export class CommandElsewhere extends Error {
  readonly id: string;
  constructor(id: string) {
    super(`command ${id} is in the other part of the executable`);
    this.id = id;
  }
}

const pjson = {
  name: pkg.name,
  version: pkg.version,
  description: pkg.description,
  type: 'module',
  oclif: {
    bin: 'meshctl',
    dirname: 'meshctl',
    topicSeparator: ' ',
    commands: { strategy: 'explicit', target: './commands.js', identifier: 'COMMANDS' },
    topics: {
      network: { description: 'Create and manage mesh networks.' },
      keys: { description: 'Access keys and join tokens.' },
      nodes: { description: 'Nodes of a network.' },
      dns: { description: 'Private DNS records.' },
      admin: { description: 'Administration of the controller itself.' },
      'admin:token': { description: 'Named, revocable admin tokens.' },
    },
  },
};

/** The plugin that holds meshctl's commands. With a manifest (the single executable) oclif reads
 * every command's metadata from it and loads a command's module only to run it. */
async function loadPlugin(root: string, table: CommandTable): Promise<Plugin> {
  const manifest = 'manifest' in table ? table.manifest : undefined;
  const plugin = new Plugin({ root, pjson: pjson as never, isRoot: true, ignoreManifest: true });
  const internals = plugin as unknown as {
    commandCache: unknown;
    commandIDs: string[];
    _manifest(): Promise<Interfaces.Manifest>;
    findCommand(id: string, opts?: { must?: boolean }): Promise<Command.Class | undefined>;
  };
  if (manifest) {
    internals._manifest = async () => {
      internals.commandIDs = Object.keys(manifest.commands);
      // oclif sorts the plugin's commands with localeCompare, whose first call loads ICU's
      // collation data: 10-18 ms of every start. The manifest lists them in that order already
      // (commandManifest, on the same runtime), so oclif gets none to sort and the list after.
      return { ...manifest, commands: {} };
    };
    internals.findCommand = async (id, opts = {}) => {
      const load = (table as { loaders: Loaders }).loaders[id];
      if (!load) {
        if (opts.must) throw new Errors.CLIError(`command ${id} not found`);
        return undefined;
      }
      const cmd = (await load()).default;
      cmd.id = id;
      (cmd as { plugin?: unknown }).plugin = plugin;
      return cmd;
    };
  } else {
    // oclif would otherwise import() the explicit target from disk, which the single executable lacks.
    internals.commandCache = (table as { commands: Record<string, Command.Class> }).commands;
  }
  await plugin.load();
  if (manifest) {
    const loaded = plugin as unknown as { manifest: Interfaces.Manifest; commands: Command.Loadable[]; alias: string; type: string };
    loaded.manifest = manifest;
    // what oclif's Plugin.load makes of each manifest entry, in the manifest's (sorted) order
    loaded.commands = Object.entries(manifest.commands).map(([id, c]) => ({
      ...c,
      load: async () => (await internals.findCommand(id, { must: true }))!,
      pluginAlias: loaded.alias,
      pluginType: c.pluginType === 'jit' ? 'jit' : loaded.type,
    })) as Command.Loadable[];
  }
  return plugin;
}

export async function loadConfig(root: string, table: CommandTable): Promise<Config> {
  const plugin = await loadPlugin(root, table);
  return Config.load({ root, pjson: pjson as never, plugins: new Map([[plugin.name, plugin]]) } as never);
}

/** The oclif manifest of every command (what the single executable is built with), the
 * commands in the order oclif sorts them (String.prototype.localeCompare of their ids). */
export async function commandManifest(root: string, commands: Record<string, Command.Class>): Promise<Interfaces.Manifest> {
  const m = (await loadPlugin(root, { commands })).manifest;
  return { ...m, commands: Object.fromEntries(Object.entries(m.commands).sort(([a], [b]) => a.localeCompare(b))) };
}

/** Runs meshctl with `argv` (without node and script) and resolves to the exit code. */
export async function main(argv: string[], root: string, table: CommandTable): Promise<number> {
  try {
    const config = await loadConfig(root, table);
    await run(argv, config);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommandElsewhere) throw err;
    const c = classify(err, Object.keys('loaders' in table ? table.loaders : table.commands));
    if (err instanceof Errors.ExitError) return (err as { oclif: { exit: number } }).oclif.exit;
    if (c.exit === 0) return 0;
    if (process.env.MESHCTL_DEBUG) process.stderr.write(`${(err as Error).stack ?? err}\n`);
    if (argv.includes('--json')) process.stdout.write(renderJson(c) + '\n');
    else process.stderr.write(renderHuman(c) + '\n');
    return c.exit;
  }
}
