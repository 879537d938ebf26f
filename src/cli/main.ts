// Entry point: hands oclif the command table in memory, runs, and owns the process exit code.
import { Config, Plugin, run, Errors } from '@oclif/core';
import pkg from '../../package.json' with { type: 'json' };
import { COMMANDS } from '../commands/index.ts';
import { classify, renderHuman, renderJson } from './errors.ts';

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

async function loadConfig(root: string): Promise<Config> {
  const plugin = new Plugin({ root, pjson: pjson as never, isRoot: true, ignoreManifest: true });
  // oclif would otherwise import() the explicit target from disk, which the single executable lacks.
  (plugin as unknown as { commandCache: unknown }).commandCache = COMMANDS;
  await plugin.load();
  return Config.load({ root, pjson: pjson as never, plugins: new Map([[plugin.name, plugin]]) } as never);
}

/** Runs meshctl with `argv` (without node and script) and resolves to the exit code. */
export async function main(argv: string[], root: string): Promise<number> {
  try {
    const config = await loadConfig(root);
    await run(argv, config);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    const c = classify(err, Object.keys(COMMANDS));
    if (err instanceof Errors.ExitError) return (err as { oclif: { exit: number } }).oclif.exit;
    if (c.exit === 0) return 0;
    if (process.env.MESHCTL_DEBUG) process.stderr.write(`${(err as Error).stack ?? err}\n`);
    if (argv.includes('--json')) process.stdout.write(renderJson(c) + '\n');
    else process.stderr.write(renderHuman(c) + '\n');
    return c.exit;
  }
}
