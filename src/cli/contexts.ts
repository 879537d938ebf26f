// Saved admin contexts (`meshctl login`): one file, 0600, in the user's config directory
// ($XDG_CONFIG_HOME/meshctl, else ~/.config/meshctl, 0700), kept with the `conf` package.
// conf is imported only when a context is read or written: its atomic writer installs signal
// handlers that re-raise SIGTERM, which must never reach the server's or the agent's shutdown.
import type Conf from 'conf';
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { MeshError } from '../core/errors.ts';

/** What a context holds: where the admin API is, the CA that must sign it, and the secret. */
export interface SavedContext {
  name: string;
  server: string;
  caPin: string;
  caPem: string;
  /** The admin token's secret. */
  secret: string;
  /** The admin token's name on the controller, when known. */
  tokenName?: string;
  savedAt: string;
}

interface Shape {
  current?: string;
  contexts: Record<string, SavedContext>;
}

/** The user's meshctl config directory. */
export function userConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.startsWith('/') ? env.XDG_CONFIG_HOME : join(env.HOME ?? homedir(), '.config');
  return join(xdg, 'meshctl');
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._@:-]{0,62}$/;

/** Checks a context name (it becomes a key in the file, and is typed on command lines). */
export function checkContextName(name: string): string {
  if (!NAME.test(name)) {
    throw new MeshError('INVALID_ARGUMENT', `context name "${name.slice(0, 80)}" is not valid`, { hint: 'Use letters, digits, and . _ @ : - (at most 63 characters)' });
  }
  return name;
}

export class ContextStore {
  readonly dir: string;
  private conf: Conf<Shape> | undefined;

  constructor(env: NodeJS.ProcessEnv = process.env) {
    this.dir = userConfigDir(env);
  }

  private async open(): Promise<Conf<Shape>> {
    if (!this.conf) {
      const { default: ConfClass } = await import('conf');
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      chmodSync(this.dir, 0o700);
      this.conf = new ConfClass<Shape>({
        projectName: 'meshctl',
        projectSuffix: '',
        cwd: this.dir,
        configName: 'contexts',
        configFileMode: 0o600,
        accessPropertiesByDotNotation: false,
        defaults: { contexts: {} },
      });
    }
    return this.conf;
  }

  /** The path of the file (it may not exist yet). */
  get path(): string {
    return join(this.dir, 'contexts.json');
  }

  /** Reads never create the directory or the file. */
  private get exists(): boolean {
    return this.conf !== undefined || existsSync(this.path);
  }

  async list(): Promise<{ current: string | undefined; contexts: SavedContext[] }> {
    if (!this.exists) return { current: undefined, contexts: [] };
    const c = await this.open();
    return { current: c.get('current'), contexts: Object.values(c.get('contexts') ?? {}).sort((a, b) => a.name.localeCompare(b.name)) };
  }

  async get(name: string): Promise<SavedContext | undefined> {
    if (!this.exists) return undefined;
    const all = (await this.open()).get('contexts') ?? {};
    return Object.hasOwn(all, name) ? all[name] : undefined;
  }

  async current(): Promise<SavedContext | undefined> {
    if (!this.exists) return undefined;
    const cur = (await this.open()).get('current');
    return cur ? this.get(cur) : undefined;
  }

  /** Saves (or replaces) a context and makes it the current one. */
  async save(ctx: SavedContext): Promise<void> {
    const c = await this.open();
    c.set('contexts', { ...(c.get('contexts') ?? {}), [ctx.name]: ctx });
    c.set('current', ctx.name);
    chmodSync(c.path, 0o600);
  }

  /** Removes a context; the current one moves to none. Returns whether it existed. */
  async remove(name: string): Promise<boolean> {
    if (!this.exists) return false;
    const c = await this.open();
    const all = { ...(c.get('contexts') ?? {}) };
    if (!Object.hasOwn(all, name)) return false;
    delete all[name];
    c.set('contexts', all);
    if (c.get('current') === name) c.delete('current');
    return true;
  }
}
