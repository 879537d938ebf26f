// The admin API client used by the admin commands. Errors from the API (problem+json) come
// back as MeshErrors with the controller's code, message and hint.
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { MeshError, codeForStatus, isErrorCode } from '../core/errors.ts';
import { defaultDataDir, ADMIN_TOKEN_FILE } from '../controller/paths.ts';

export interface ClientOptions {
  server?: string;
  token?: string;
  dataDir?: string;
}

export const DEFAULT_SERVER = 'http://127.0.0.1:8081';

function resolveToken(opts: ClientOptions): string {
  if (opts.token) return opts.token.trim();
  const path = join(opts.dataDir ?? defaultDataDir(), ADMIN_TOKEN_FILE);
  if (existsSync(path)) {
    try {
      return readFileSync(path, 'utf8').trim();
    } catch (err) {
      throw new MeshError('UNAUTHENTICATED', `reading the admin token ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
        hint: 'Run as the user that runs the controller (usually root), or pass --token / MESHCTL_TOKEN',
      });
    }
  }
  throw new MeshError('UNAUTHENTICATED', `no admin token: none given and ${path} does not exist`, {
    hint: 'Pass --token TOKEN or set MESHCTL_TOKEN (the controller writes it to <data-dir>/admin.token)',
  });
}

export class AdminClient {
  readonly base: string;
  private readonly token: string;

  constructor(opts: ClientOptions = {}) {
    const server = (opts.server ?? DEFAULT_SERVER).replace(/\/+$/, '');
    let url: URL;
    try {
      url = new URL(server);
    } catch {
      throw new MeshError('INVALID_ARGUMENT', `--server "${server}" is not a URL`, { hint: `For example: --server ${DEFAULT_SERVER}` });
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new MeshError('INVALID_ARGUMENT', `--server "${server}" must be an http:// or https:// URL`, { hint: `For example: --server ${DEFAULT_SERVER}` });
    }
    this.base = server;
    this.token = resolveToken(opts);
  }

  /** Calls the API; resolves to the parsed JSON body (undefined for 204). */
  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(this.base + '/api/v1' + path, {
        method,
        headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(15_000),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
      throw new MeshError('UNREACHABLE', `cannot reach the controller at ${this.base} (${cause})`, {
        hint: 'Start it with `meshctl server`, or point --server / MESHCTL_SERVER at it',
        cause: err,
      });
    }
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      throw new MeshError('INTERNAL', `the controller at ${this.base} answered ${res.status} with a body that is not JSON`, { hint: 'Is --server pointing at a meshctl controller?' });
    }
    if (!res.ok) {
      const p = (json ?? {}) as { code?: string; detail?: string; hint?: string };
      const code = isErrorCode(p.code) ? p.code : codeForStatus(res.status);
      throw new MeshError(code, p.detail ?? `the controller answered ${res.status}`, p.hint ? { hint: p.hint } : {});
    }
    return json as T;
  }
}
