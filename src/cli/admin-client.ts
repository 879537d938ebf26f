// The admin API client used by the admin commands, and the one place that decides which
// controller they talk to, with which secret, trusting which CA. Errors from the API
// (problem+json) come back as MeshErrors with the controller's code, message and hint.
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { isIP } from 'node:net';
import { MeshError, codeForStatus, isErrorCode } from '../core/errors.ts';
import { pinOf } from '../core/ca-pin.ts';
import { decodeLoginToken, isLoginToken } from '../core/login-token.ts';
import { formatHostPort } from '../core/address.ts';
import { defaultDataDir, ADMIN_TOKEN_FILE } from '../controller/paths.ts';
import { fetchPinnedCa } from '../net/pinned-ca.ts';
import { pinnedFetch, pinnedStream } from '../net/pinned-fetch.ts';
import type { IncomingMessage } from 'node:http';
import { ContextStore, type SavedContext } from './contexts.ts';

export interface ClientOptions {
  server?: string;
  /** A raw admin secret or a login token (mca1.…). */
  token?: string;
  dataDir?: string;
  context?: string;
  env?: NodeJS.ProcessEnv;
}

export const DEFAULT_SERVER = 'https://127.0.0.1:8081';

/** Where and how to reach the admin API. */
export interface AdminTarget {
  base: string;
  secret: string;
  /** The CA that must have signed the server's certificate, when known already. */
  caPem?: string;
  /** The pin the CA must have, when the CA still has to be fetched. */
  caPin?: string;
  /** Where the secret came from, for messages. */
  source: string;
}

/** True for names and addresses of this host's loopback (127/8, ::1, localhost). */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || /^::ffff:127\./.test(h);
  return false;
}

const caPath = (dataDir: string) => join(dataDir, 'tls', 'ca.crt');

function readDataDirCa(dataDir: string): string | undefined {
  try {
    return existsSync(caPath(dataDir)) ? readFileSync(caPath(dataDir), 'utf8') : undefined;
  } catch {
    return undefined;
  }
}

function readAdminTokenFile(dataDir: string): string {
  const path = join(dataDir, ADMIN_TOKEN_FILE);
  if (existsSync(path)) {
    try {
      return readFileSync(path, 'utf8').trim();
    } catch (err) {
      throw new MeshError('UNAUTHENTICATED', `reading the admin token ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
        hint: 'Run as the user that runs the controller (usually root), or use `meshctl login LOGIN_TOKEN`, --token or MESHCTL_TOKEN',
      });
    }
  }
  throw new MeshError('UNAUTHENTICATED', `no admin token: no context, none given, and ${path} does not exist`, {
    hint: 'Run `meshctl login LOGIN_TOKEN` (an admin makes one with `meshctl admin token create NAME`), or pass --token / MESHCTL_TOKEN',
  });
}

function fromToken(token: string, opts: ClientOptions, dataDir: string, source: string): AdminTarget {
  const localCa = readDataDirCa(dataDir);
  if (isLoginToken(token)) {
    const t = decodeLoginToken(token);
    // A CA in the local data dir with the same pin saves a handshake; any other CA is ignored.
    const ca = localCa && safePin(localCa) === t.caPin ? localCa : undefined;
    return { base: opts.server ?? t.server, secret: t.secret, caPin: t.caPin, ...(ca ? { caPem: ca } : {}), source };
  }
  return { base: opts.server ?? DEFAULT_SERVER, secret: token.trim(), ...(localCa ? { caPem: localCa } : {}), source };
}

function safePin(pem: string): string | undefined {
  try {
    return pinOf(pem);
  } catch {
    return undefined;
  }
}

const fromContext = (ctx: SavedContext, opts: ClientOptions): AdminTarget =>
  ({ base: opts.server ?? ctx.server, secret: ctx.secret, caPem: ctx.caPem, caPin: ctx.caPin, source: `context "${ctx.name}"` });

/**
 * Picks the controller and secret, in this order: --token/MESHCTL_TOKEN (a secret or a login
 * token); --context/MESHCTL_CONTEXT; an explicit --data-dir/--server's admin.token; the current
 * context; the admin.token of the default data directory.
 */
export async function resolveTarget(opts: ClientOptions): Promise<AdminTarget> {
  const env = opts.env ?? process.env;
  const dataDir = opts.dataDir ?? defaultDataDir(env);
  if (opts.token) return fromToken(opts.token, opts, dataDir, '--token / MESHCTL_TOKEN');
  const contexts = new ContextStore(env);
  if (opts.context) {
    const ctx = await contexts.get(opts.context);
    if (!ctx) {
      throw new MeshError('NOT_FOUND', `no saved context "${opts.context}"`, { hint: 'See `meshctl login --list`; save one with `meshctl login LOGIN_TOKEN --name NAME`' });
    }
    return fromContext(ctx, opts);
  }
  if (!opts.dataDir && !opts.server) {
    const cur = await contexts.current();
    if (cur) return fromContext(cur, opts);
  }
  return fromToken(readAdminTokenFile(dataDir), opts, dataDir, join(dataDir, ADMIN_TOKEN_FILE));
}

/** Refuses what would put the secret on the wire in clear, or to a server nobody can verify. */
export function checkTransport(t: AdminTarget): URL {
  const server = t.base.replace(/\/+$/, '');
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new MeshError('INVALID_ARGUMENT', `--server "${server}" is not a URL`, { hint: `For example: --server ${DEFAULT_SERVER}` });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new MeshError('INVALID_ARGUMENT', `--server "${server}" must be an https:// (or, on loopback, http://) URL`, { hint: `For example: --server ${DEFAULT_SERVER}` });
  }
  if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
    throw new MeshError('INSECURE_TRANSPORT', `refusing to send an admin token over plain HTTP to ${url.host}`, {
      hint: 'Use the https:// URL of the controller (its default); plain HTTP is only for loopback',
    });
  }
  if (url.protocol === 'https:' && !t.caPem && !t.caPin) {
    throw new MeshError('INSECURE_TRANSPORT', `no CA to verify the controller at ${url.host} with`, {
      hint: 'Use `meshctl login LOGIN_TOKEN` or put a login token (mca1.…) in MESHCTL_TOKEN; on the controller host pass --data-dir',
    });
  }
  return url;
}

const TLS_TRUST_ERRORS = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|SIGNATURE|ALTNAME|ISSUER/;

interface Resolved {
  target: AdminTarget;
  url: URL;
  base: string;
  caPem: string | undefined;
}

export class AdminClient {
  private readonly opts: ClientOptions;
  private resolved: Resolved | undefined;

  constructor(opts: ClientOptions = {}) {
    this.opts = opts;
  }

  /** Picks the target and checks the transport (once); throws before anything is sent. */
  async resolve(): Promise<Resolved> {
    if (!this.resolved) {
      const target = await resolveTarget(this.opts);
      const url = checkTransport(target);
      this.resolved = { target, url, base: target.base.replace(/\/+$/, ''), caPem: target.caPem };
    }
    return this.resolved;
  }

  /** The API's base URL (after resolve()). */
  get base(): string {
    return this.resolved?.base ?? '';
  }

  /** Fetches and pins the CA on first use; returns its PEM (undefined over loopback HTTP). */
  async trustedCa(): Promise<string | undefined> {
    const r = await this.resolve();
    if (r.url.protocol !== 'https:') return undefined;
    if (!r.caPem) {
      const port = Number(r.url.port || 443);
      r.caPem = await fetchPinnedCa(formatHostPort({ host: r.url.hostname.replace(/^\[|\]$/g, ''), port }), r.target.caPin!, {
        alpn: ['http/1.1'],
        tokenKind: 'login token',
        unreachableHint: 'Check the URL, that `meshctl server` runs there, and that this host can reach its admin API',
      });
    }
    return r.caPem;
  }

  /** Calls the API; resolves to the parsed JSON body (undefined for 204). */
  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const ca = await this.trustedCa();
    const secret = this.resolved!.target.secret;
    let res: Response;
    try {
      res = await pinnedFetch(this.base + '/api/v1' + path, {
        method,
        headers: { authorization: `Bearer ${secret}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        timeoutMs: 15_000,
      }, ca);
    } catch (err) {
      throw this.transportError(err);
    }
    if (res.status === 204) return undefined as T;
    return this.answer<T>(res.status, await res.text());
  }

  /**
   * Opens a long-lived GET (the event stream): resolves with the response once the controller
   * answered 200; any other answer becomes the controller's error, as for call().
   */
  async stream(path: string, opts: { headers?: Record<string, string>; signal?: AbortSignal } = {}): Promise<IncomingMessage> {
    const ca = await this.trustedCa();
    const secret = this.resolved!.target.secret;
    let res: IncomingMessage;
    try {
      res = await pinnedStream(this.base + '/api/v1' + path, {
        headers: { authorization: `Bearer ${secret}`, accept: 'text/event-stream', ...(opts.headers ?? {}) },
        timeoutMs: 15_000,
        ...(opts.signal ? { signal: opts.signal } : {}),
      }, ca);
    } catch (err) {
      throw this.transportError(err);
    }
    if (res.statusCode === 200) return res;
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    return this.answer<never>(res.statusCode ?? 500, Buffer.concat(chunks).toString('utf8'));
  }

  private transportError(err: unknown): MeshError {
    const cause = (err as { code?: string }).code ?? (err as Error).name;
    if (TLS_TRUST_ERRORS.test(cause)) {
      return new MeshError('TLS_PIN_MISMATCH', `the controller at ${this.base} did not present a certificate from the expected CA (${cause})`, {
        hint: 'It is another controller, or something is intercepting the connection; log in again with a fresh login token',
        cause: err,
      });
    }
    return new MeshError('UNREACHABLE', `cannot reach the controller at ${this.base} (${cause})`, {
      hint: cause === 'EPROTO' || cause === 'ECONNRESET' ? 'Is it serving plain HTTP (--api-insecure)? Then use an http:// loopback URL' : 'Start it with `meshctl server`, or point --server / MESHCTL_SERVER at it',
      cause: err,
    });
  }

  /** The parsed JSON of an answer, or the controller's error (problem+json) as a MeshError. */
  private answer<T>(status: number, text: string): T {
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      throw new MeshError('INTERNAL', `the controller at ${this.base} answered ${status} with a body that is not JSON`, { hint: 'Is --server pointing at a meshctl controller?' });
    }
    if (status < 200 || status >= 300) {
      const p = (json ?? {}) as { code?: string; detail?: string; hint?: string };
      const code = isErrorCode(p.code) ? p.code : codeForStatus(status);
      throw new MeshError(code, p.detail ?? `the controller answered ${status}`, p.hint ? { hint: p.hint } : {});
    }
    return json as T;
  }
}
