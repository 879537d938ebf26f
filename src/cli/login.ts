// `meshctl login`: checks a login token against the live controller (the CA pin, then the secret)
// and saves it as a context; `login --list` and `logout` read and prune the saved contexts.
import { decodeLoginToken } from '../core/login-token.ts';
import { MeshError } from '../core/errors.ts';
import { AdminClient } from './admin-client.ts';
import { adminApi } from './admin-api.ts';
import { ContextStore, checkContextName } from './contexts.ts';

export interface ContextView {
  name: string;
  server: string;
  tokenName: string | null;
  current: boolean;
  savedAt: string;
}

/** Verifies `loginToken` against its controller and saves it as context `name` (default: the token's name). */
export async function login(loginToken: string, opts: { name?: string; env?: NodeJS.ProcessEnv } = {}): Promise<ContextView & { path: string }> {
  const env = opts.env ?? process.env;
  const t = decodeLoginToken(loginToken);
  // A data dir that is not there: the pin in the token is the only trust.
  const client = new AdminClient({ token: loginToken, dataDir: '/nonexistent/meshctl-login', env });
  const caPem = await client.trustedCa(); // TLS_PIN_MISMATCH unless the live server presents the pinned CA
  const who = await adminApi(client).whoami(); // UNAUTHENTICATED unless the secret is live
  const name = checkContextName(opts.name ?? who.name ?? new URL(client.base).hostname);
  if (!caPem && new URL(client.base).protocol === 'https:') throw new MeshError('INTERNAL', 'no CA after a pinned connection');
  const store = new ContextStore(env);
  const savedAt = new Date().toISOString();
  await store.save({ name, server: client.base, caPin: t.caPin, caPem: caPem ?? '', secret: t.secret, tokenName: who.name, savedAt });
  return { name, server: client.base, tokenName: who.name, current: true, savedAt, path: store.path };
}

export async function listContexts(env: NodeJS.ProcessEnv = process.env): Promise<ContextView[]> {
  const { current, contexts } = await new ContextStore(env).list();
  return contexts.map((c) => ({ name: c.name, server: c.server, tokenName: c.tokenName ?? null, current: c.name === current, savedAt: c.savedAt }));
}

/** Forgets a saved context (default: the current one). The token itself stays valid on the controller. */
export async function logout(name: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<{ name: string; removed: true }> {
  const store = new ContextStore(env);
  const target = name ?? (await store.list()).current;
  if (!target) throw new MeshError('NOT_FOUND', 'no current context to log out of', { hint: 'Name one: meshctl logout CONTEXT (see meshctl login --list)' });
  if (!(await store.remove(target))) throw new MeshError('NOT_FOUND', `no saved context "${target}"`, { hint: 'See meshctl login --list' });
  return { name: target, removed: true };
}
