// The command table as loaders, for the single executable: each command's module (and what only
// it imports: gRPC, sql.js, Ink...) is evaluated when that command runs, not at every start. oclif
// gets the commands' metadata (flags, summaries) from a manifest made at build time
// (scripts/oclif-manifest.ts), so `--version` and `--help` load no command at all. Keep in step
// with index.ts (the eager table the launcher in bin/ and the tests use); a unit test compares them.
import type { Command } from '@oclif/core';

export const LOADERS: Record<string, () => Promise<{ default: Command.Class }>> = {
  server: () => import('./server.ts'),
  relay: () => import('./relay.ts'),
  'server:migrate-store': () => import('./server/migrate-store.ts'),
  'network:create': () => import('./network/create.ts'),
  'network:list': () => import('./network/list.ts'),
  'network:show': () => import('./network/show.ts'),
  'network:update': () => import('./network/update.ts'),
  'network:delete': () => import('./network/delete.ts'),
  'keys:create': () => import('./keys/create.ts'),
  'keys:list': () => import('./keys/list.ts'),
  'keys:revoke': () => import('./keys/revoke.ts'),
  'nodes:list': () => import('./nodes/list.ts'),
  'nodes:show': () => import('./nodes/show.ts'),
  'nodes:approve': () => import('./nodes/approve.ts'),
  'nodes:delete': () => import('./nodes/delete.ts'),
  'nodes:ingress': () => import('./nodes/ingress.ts'),
  'nodes:egress': () => import('./nodes/egress.ts'),
  'clients:create': () => import('./clients/create.ts'),
  'clients:list': () => import('./clients/list.ts'),
  'clients:show': () => import('./clients/show.ts'),
  'clients:delete': () => import('./clients/delete.ts'),
  'clients:disable': () => import('./clients/disable.ts'),
  'clients:enable': () => import('./clients/enable.ts'),
  'dns:list': () => import('./dns/list.ts'),
  'dns:add': () => import('./dns/add.ts'),
  'dns:rm': () => import('./dns/rm.ts'),
  'dns:export': () => import('./dns/export.ts'),
  join: () => import('./join.ts'),
  checkin: () => import('./checkin.ts'),
  leave: () => import('./leave.ts'),
  status: () => import('./status.ts'),
  agent: () => import('./agent.ts'),
  login: () => import('./login.ts'),
  logout: () => import('./logout.ts'),
  'admin:token:create': () => import('./admin/token/create.ts'),
  'admin:token:list': () => import('./admin/token/list.ts'),
  'admin:token:revoke': () => import('./admin/token/revoke.ts'),
  audit: () => import('./audit.ts'),
  dashboard: () => import('./dashboard.ts'),
};
