// Where the controller keeps its state by default (CLI.md: /var/lib/meshctl as root, else XDG).
import { homedir } from 'node:os';
import { join } from 'node:path';

export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (process.getuid?.() === 0) return '/var/lib/meshctl';
  const xdg = env.XDG_DATA_HOME && env.XDG_DATA_HOME.startsWith('/') ? env.XDG_DATA_HOME : join(env.HOME ?? homedir(), '.local', 'share');
  return join(xdg, 'meshctl');
}

export const ADMIN_TOKEN_FILE = 'admin.token';
export const CONFIG_FILE = 'server.yaml';
