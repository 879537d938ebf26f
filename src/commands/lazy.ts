// The command table as loaders, for the single executable: each command's module (and what only
// it imports: gRPC, sql.js, Ink...) is evaluated when that command runs, not at every start. oclif
// gets the commands' metadata (flags, summaries) from a manifest made at build time
// (scripts/oclif-manifest.ts), so `--version` and `--help` load no command at all. Keep in step
// with index.ts (the eager table the launcher in bin/ and the tests use); a unit test compares them.
import type { Command } from '@oclif/core/command';
import { CLI_LOADERS } from './lazy-cli.ts';
import { COMMAND_PARTS } from './parts.ts';

/** The commands that only the whole application runs (parts.ts: "app"). */
export const APP_LOADERS: Record<string, () => Promise<{ default: Command.Class }>> = {
  server: () => import('./server.ts'),
  relay: () => import('./relay.ts'),
  'server:migrate-store': () => import('./server/migrate-store.ts'),
  join: () => import('./join.ts'),
  checkin: () => import('./checkin.ts'),
  leave: () => import('./leave.ts'),
  status: () => import('./status.ts'),
  agent: () => import('./agent.ts'),
  dashboard: () => import('./dashboard.ts'),
};

/** Every command, in the order of parts.ts (and index.ts). */
export const LOADERS: Record<string, () => Promise<{ default: Command.Class }>> = Object.fromEntries(
  Object.keys(COMMAND_PARTS).map((id) => [id, CLI_LOADERS[id] ?? APP_LOADERS[id]!]),
);
