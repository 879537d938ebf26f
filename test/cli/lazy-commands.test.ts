// The single executable's command tables (src/commands/lazy.ts, lazy-cli.ts, parts.ts) are the
// launcher's (index.ts) as loaders, and the manifest it is built with lists exactly those commands.
import t from 'tap';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { APP_LOADERS, LOADERS } from '../../src/commands/lazy.ts';
import { CLI_LOADERS } from '../../src/commands/lazy-cli.ts';
import { COMMAND_PARTS, partOf } from '../../src/commands/parts.ts';
import { COMMANDS } from '../../src/commands/index.ts';
import { CommandElsewhere, commandManifest, loadConfig, main } from '../../src/cli/main.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

t.test('lazy.ts has a loader for every command of index.ts, and each loads that command', async (t) => {
  t.same(Object.keys(LOADERS).sort(), Object.keys(COMMANDS).sort(), 'a command added to index.ts needs its loader in lazy.ts (and the other way round)');
  for (const [id, load] of Object.entries(LOADERS)) t.equal((await load()).default, COMMANDS[id as keyof typeof COMMANDS], id);
});

t.test('parts.ts lists every command in the order of index.ts, and each part loads its own', async (t) => {
  t.same(Object.keys(COMMAND_PARTS), Object.keys(COMMANDS), 'the command ids in the same order (suggestions break ties by it)');
  t.same(Object.keys(LOADERS), Object.keys(COMMANDS));
  const of = (part: string) => Object.entries(COMMAND_PARTS).filter(([, p]) => p === part).map(([id]) => id);
  t.same(Object.keys(CLI_LOADERS).sort(), of('cli').sort(), 'lazy-cli.ts loads the "cli" commands');
  t.same(Object.keys(APP_LOADERS).sort(), of('app').sort(), 'lazy.ts APP_LOADERS loads the "app" commands');
  for (const [id, load] of Object.entries(CLI_LOADERS)) t.equal((await load()).default, COMMANDS[id as keyof typeof COMMANDS], id);
});

t.test('the executable picks the part that carries the command from the first argument', async (t) => {
  // a topic's commands all live in one part: the entry decides from the topic alone
  const byTopic = new Map<string, Set<string>>();
  for (const [id, part] of Object.entries(COMMAND_PARTS)) byTopic.set(id.split(':')[0]!, (byTopic.get(id.split(':')[0]!) ?? new Set()).add(part));
  for (const [topic, parts] of byTopic) t.equal(parts.size, 1, `topic ${topic} is in one part`);
  // and so are their aliases (oclif's: `network ls`, `nodes rm`...)
  const m = await commandManifest(root, COMMANDS);
  for (const [id, c] of Object.entries(m.commands)) {
    for (const alias of [...(c.aliases ?? []), ...((c as { hiddenAliases?: string[] }).hiddenAliases ?? [])]) {
      t.equal(partOf(alias.split(/[ :]/)), COMMAND_PARTS[id as keyof typeof COMMAND_PARTS], `alias ${alias} of ${id}`);
    }
  }
  for (const id of Object.keys(COMMAND_PARTS) as (keyof typeof COMMAND_PARTS)[]) {
    t.equal(partOf(id.split(':')), COMMAND_PARTS[id], `meshctl ${id.replaceAll(':', ' ')}`);
    t.equal(partOf([id, '--help']), COMMAND_PARTS[id], `meshctl ${id} --help`);
  }
  for (const argv of [[], ['--help'], ['-h'], ['help'], ['help', 'server'], ['sever'], ['--version', 'x']]) t.equal(partOf(argv), 'cli', argv.join(' '));
});

t.test('the manifest the executable is built with describes every command, flags included', async (t) => {
  const m = await commandManifest(root, COMMANDS);
  t.same(Object.keys(m.commands).sort(), Object.keys(LOADERS).sort());
  t.ok(m.commands['network:list']?.flags.json, 'network list has --json');
  t.ok(m.commands.server?.flags['data-dir'], 'server has --data-dir');
});

t.test('with the manifest, oclif holds the same commands in the same order as it sorts them itself', async (t) => {
  const m = await commandManifest(root, COMMANDS);
  const ids = Object.keys(m.commands);
  t.same(ids, [...ids].sort((a, b) => a.localeCompare(b)), 'the manifest lists the commands in localeCompare order');
  const lazy = await loadConfig(root, { manifest: m, loaders: LOADERS });
  const eager = await loadConfig(root, { commands: COMMANDS });
  t.same(lazy.commands.map((c) => c.id), eager.commands.map((c) => c.id));
  t.same(lazy.plugins.get('meshctl')?.commands.map((c) => c.id), eager.plugins.get('meshctl')?.commands.map((c) => c.id));
  t.same(lazy.topics.map((x) => x.name), eager.topics.map((x) => x.name));
  t.equal((await lazy.findCommand('network:list')!.load()).id, 'network:list', 'a command still loads through its loader');
});

t.test('a command the loaders leave to the other part is handed over, not reported', async (t) => {
  const m = await commandManifest(root, COMMANDS);
  const loaders = { ...LOADERS, status: () => Promise.reject(new CommandElsewhere('status')) };
  const err = await main(['status'], root, { manifest: m, loaders }).then(() => undefined, (e: unknown) => e);
  t.ok(err instanceof CommandElsewhere && err.id === 'status', 'main() passes CommandElsewhere on');
  t.equal(await main(['definitely-not-a-command'], root, { manifest: m, loaders }), 2, 'other errors are still reported');
});
