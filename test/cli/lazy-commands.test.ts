// The single executable's command table (src/commands/lazy.ts) is the launcher's (index.ts) as
// loaders, and the manifest it is built with lists exactly those commands.
import t from 'tap';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LOADERS } from '../../src/commands/lazy.ts';
import { COMMANDS } from '../../src/commands/index.ts';
import { commandManifest, loadConfig } from '../../src/cli/main.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

t.test('lazy.ts has a loader for every command of index.ts, and each loads that command', async (t) => {
  t.same(Object.keys(LOADERS).sort(), Object.keys(COMMANDS).sort(), 'a command added to index.ts needs its loader in lazy.ts (and the other way round)');
  for (const [id, load] of Object.entries(LOADERS)) t.equal((await load()).default, COMMANDS[id as keyof typeof COMMANDS], id);
});

t.test('the manifest the executable is built with describes every command, flags included', async (t) => {
  const m = await commandManifest(root);
  t.same(Object.keys(m.commands).sort(), Object.keys(LOADERS).sort());
  t.ok(m.commands['network:list']?.flags.json, 'network list has --json');
  t.ok(m.commands.server?.flags['data-dir'], 'server has --data-dir');
});

t.test('with the manifest, oclif holds the same commands in the same order as it sorts them itself', async (t) => {
  const m = await commandManifest(root);
  const ids = Object.keys(m.commands);
  t.same(ids, [...ids].sort((a, b) => a.localeCompare(b)), 'the manifest lists the commands in localeCompare order');
  const lazy = await loadConfig(root, m);
  const eager = await loadConfig(root);
  t.same(lazy.commands.map((c) => c.id), eager.commands.map((c) => c.id));
  t.same(lazy.plugins.get('meshctl')?.commands.map((c) => c.id), eager.plugins.get('meshctl')?.commands.map((c) => c.id));
  t.same(lazy.topics.map((x) => x.name), eager.topics.map((x) => x.name));
  t.equal((await lazy.findCommand('network:list')!.load()).id, 'network:list', 'a command still loads through its loader');
});
