// The admin commands as loaders: the command table of the single executable's small part (see
// parts.ts, src/sea-cli.ts). Each command's module is evaluated when that command runs. Keep in
// step with parts.ts and index.ts (a unit test compares them).
import type { Command } from '@oclif/core/command';

export const CLI_LOADERS: Record<string, () => Promise<{ default: Command.Class }>> = {
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
  login: () => import('./login.ts'),
  logout: () => import('./logout.ts'),
  'admin:token:create': () => import('./admin/token/create.ts'),
  'admin:token:list': () => import('./admin/token/list.ts'),
  'admin:token:revoke': () => import('./admin/token/revoke.ts'),
  audit: () => import('./audit.ts'),
};
