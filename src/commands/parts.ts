// Every command id, in the order of the command table (lazy.ts, index.ts), and the part of the
// single executable that runs it: "cli" is the small application that also answers `--help` and
// unknown commands (the admin commands: HTTP to the controller's admin API), "app" the whole
// application (controller, relay, agent, dashboard: gRPC, SQLite, Ink). src/sea-entry.ts picks
// the part from the first argument, so a topic's commands all live in the same part; a unit
// test checks that, and that lazy-cli.ts and lazy.ts load exactly these commands.
export const COMMAND_PARTS = {
  server: 'app',
  relay: 'app',
  'server:migrate-store': 'app',
  'network:create': 'cli',
  'network:list': 'cli',
  'network:show': 'cli',
  'network:update': 'cli',
  'network:delete': 'cli',
  'keys:create': 'cli',
  'keys:list': 'cli',
  'keys:revoke': 'cli',
  'nodes:list': 'cli',
  'nodes:show': 'cli',
  'nodes:approve': 'cli',
  'nodes:delete': 'cli',
  'nodes:ingress': 'cli',
  'nodes:egress': 'cli',
  'clients:create': 'cli',
  'clients:list': 'cli',
  'clients:show': 'cli',
  'clients:delete': 'cli',
  'clients:disable': 'cli',
  'clients:enable': 'cli',
  'dns:list': 'cli',
  'dns:add': 'cli',
  'dns:rm': 'cli',
  'dns:export': 'cli',
  join: 'app',
  checkin: 'app',
  leave: 'app',
  status: 'app',
  agent: 'app',
  login: 'cli',
  logout: 'cli',
  'admin:token:create': 'cli',
  'admin:token:list': 'cli',
  'admin:token:revoke': 'cli',
  audit: 'cli',
  dashboard: 'app',
} as const satisfies Record<string, 'cli' | 'app'>;

export type CommandId = keyof typeof COMMAND_PARTS;
export type Part = (typeof COMMAND_PARTS)[CommandId];

/** The part of the executable that runs `meshctl ...argv`: the part of the commands whose topic
 * (or name) is the first argument, as oclif reads it (`network list` or `network:list`); "cli"
 * for everything else (no argument, a flag first, `help`, a command that does not exist). */
export function partOf(argv: readonly string[]): Part {
  const first = argv[0];
  if (first === undefined || first.startsWith('-')) return 'cli';
  const topic = first.split(':')[0];
  for (const [id, part] of Object.entries(COMMAND_PARTS)) if (id.split(':')[0] === topic) return part;
  return 'cli';
}
