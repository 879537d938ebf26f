// Prints the oclif manifest of every meshctl command (flags, args, summaries, aliases) as JSON:
// the single executable is built with it (pkg.config.json bundle.generated), so that oclif
// needs no command's module to start, list commands or show help.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { commandManifest } from '../src/cli/main.ts';
import { COMMANDS } from '../src/commands/index.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
process.stdout.write(JSON.stringify(await commandManifest(root, COMMANDS)));
process.exit(0); // some command modules leave handles (timers, sockets) open when imported
