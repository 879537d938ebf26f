// The single executable's small application: `--help`, unknown commands and the admin commands
// (src/commands/parts.ts: "cli"), without the controller, agent and dashboard code (gRPC, SQLite,
// Ink...), so that what an admin command's start reads, compiles and evaluates is a fifth of the
// whole application. A command it does not carry (src/sea-entry.ts routes those to the whole
// application first) is handed over before it runs.
import { CommandElsewhere } from './cli/main.ts';
import { CLI_LOADERS } from './commands/lazy-cli.ts';
import { COMMAND_PARTS } from './commands/parts.ts';
import { runSea } from './sea-run.ts';

await runSea(Object.fromEntries(Object.keys(COMMAND_PARTS).map((id) => [id, CLI_LOADERS[id] ?? (() => Promise.reject(new CommandElsewhere(id)))])));
