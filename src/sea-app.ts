// The single executable's whole application (dist/meshctl): every command. src/sea-entry.ts runs
// it for the commands that src/commands/parts.ts gives to "app" (controller, relay, agent,
// dashboard), and for any that the small part (src/sea-cli.ts) finds it does not carry.
import { LOADERS } from './commands/lazy.ts';
import { runSea } from './sea-run.ts';

await runSea(LOADERS);
