// The admin REST API: fastify with schema validation, bearer-token auth on every route,
// problem+json errors and an OpenAPI document.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import type { Logger } from 'pino';
import { hashSecret } from '../../core/secret.ts';
import { MeshError } from '../../core/errors.ts';
import { decodeLoginToken, isLoginToken } from '../../core/login-token.ts';
import { JoinLimiter } from '../node-api/join-limiter.ts';
import type { Store } from '../store/store.ts';
import type { AdminService } from '../services/admin.ts';
import { errorHandler, sendProblem, toProblem } from './problem.ts';
import { registerRoutes } from './routes.ts';
import { registerEventRoutes } from './event-routes.ts';
import type { EventLog } from '../events/event-log.ts';
import { scrape } from '../metrics.ts';

export const BODY_LIMIT = 64 * 1024;

/** Failed admin authentications per source address: the join limiter's budget (10 a minute). */
export const newAuthLimiter = (maxFailures = 10, windowMs = 60_000) =>
  new JoinLimiter(maxFailures, windowMs, 'admin authentications', 'Check the admin token; ask an admin for a fresh one (meshctl admin token create)');

export interface AuthOptions {
  limiter?: JoinLimiter;
  /** The caller's address, for the limiter. */
  source?: string;
  now?: Date;
}

/**
 * Resolves to the actor name ("admin:<token name>") for a bearer token that is a live admin
 * secret (or a login token carrying one), else throws UNAUTHENTICATED. Read from the store on
 * every request: a revoked or expired token is refused at once. A wrong secret counts against the
 * source's budget (RATE_LIMITED past it); a missing header, a revoked or an expired token do not
 * (no guessing there).
 */
export async function authenticate(store: Store, header: string | undefined, opts: AuthOptions = {}): Promise<string> {
  const m = /^Bearer ([A-Za-z0-9_\-.~+/=]{16,4096})$/.exec(header ?? '');
  if (!m) {
    throw new MeshError('UNAUTHENTICATED', 'this API needs an admin token (Authorization: Bearer TOKEN)', {
      hint: 'Run `meshctl login LOGIN_TOKEN`, or pass --token / MESHCTL_TOKEN; on the controller host the token is in <data-dir>/admin.token',
    });
  }
  const source = opts.source ?? 'unknown';
  opts.limiter?.check(source);
  let secret = m[1]!;
  if (isLoginToken(secret)) {
    try {
      secret = decodeLoginToken(secret).secret;
    } catch {
      opts.limiter?.fail(source);
      throw new MeshError('UNAUTHENTICATED', 'the admin token was not accepted', { hint: 'Check --token / MESHCTL_TOKEN; ask an admin for a fresh one' });
    }
  }
  const t = await store.getAdminTokenByHash(hashSecret(secret));
  if (!t) {
    opts.limiter?.fail(source);
    throw new MeshError('UNAUTHENTICATED', 'the admin token was not accepted', { hint: 'Check --token / MESHCTL_TOKEN; ask an admin for a fresh one' });
  }
  if (t.revokedAt) throw new MeshError('UNAUTHENTICATED', `the admin token "${t.name}" was revoked`, { hint: 'Ask an admin for a new one (meshctl admin token create)' });
  if (t.expiresAt && Date.parse(t.expiresAt) <= (opts.now ?? new Date()).getTime()) {
    throw new MeshError('UNAUTHENTICATED', `the admin token "${t.name}" expired at ${t.expiresAt}`, { hint: 'Ask an admin for a new one (meshctl admin token create)' });
  }
  return `admin:${t.name}`;
}

export interface ApiOptions {
  /** Serve HTTPS with this key and certificate chain (up to the CA). */
  https?: { key: string; cert: string };
  /** Failed admin authentications allowed per source address and minute (default 10). */
  authFailuresPerMinute?: number;
  /** Serve GET /api/v1/events from this log (the admin event stream). */
  events?: EventLog;
}

const routeTables = new WeakMap<FastifyInstance, { method: string; url: string }[]>();

/** Every route of an API built by buildApi, as fastify registered it (HEAD routes left out). */
export const routeTableOf = (app: FastifyInstance): readonly { method: string; url: string }[] => routeTables.get(app) ?? [];

/** The admin API; served over HTTPS when `opts.https` (key, and certificate chain up to the CA) is given. */
export async function buildApi(store: Store, svc: AdminService, log: Logger, version: string, opts: ApiOptions = {}): Promise<FastifyInstance> {
  const limiter = newAuthLimiter(opts.authFailuresPerMinute);
  const auth = (req: { headers: { authorization?: string | undefined }; ip: string }) => authenticate(store, req.headers.authorization, { limiter, source: req.ip });
  const app = Fastify({
    ...(opts.https ? { https: opts.https } : {}),
    loggerInstance: log as unknown as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT,
    logController: new LogController({ disableRequestLogging: true }),
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
  });
  const table: { method: string; url: string }[] = [];
  routeTables.set(app, table);
  app.addHook('onRoute', (r) => {
    for (const m of [r.method].flat()) if (m !== 'HEAD') table.push({ method: m, url: r.url });
  });
  await app.register(swagger, {
    openapi: {
      info: { title: 'meshctl admin API', version },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  app.addHook('onRequest', async (req) => {
    (req as typeof req & { actor?: string }).actor = await auth(req);
  });
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(async (req, reply) => {
    // Authenticate before saying what exists.
    try {
      await auth(req);
    } catch (err) {
      return sendProblem(reply, toProblem(err));
    }
    return sendProblem(reply, toProblem(new MeshError('NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`, { hint: 'See GET /api/v1/openapi.json' })));
  });
  registerRoutes(app, svc);
  if (opts.events) {
    const events = opts.events;
    registerEventRoutes(app, svc, events);
    // Event streams never end by themselves: end them before the server waits for open requests.
    app.addHook('preClose', async () => events.close());
  }
  // Metrics on the API port: behind the admin token like every route here (the onRequest hook).
  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
    const m = await scrape();
    return reply.type(m.contentType).send(m.body);
  });
  // Admin actions in the log (structured; route and parameters, never a body, so never a secret).
  app.addHook('onResponse', async (req, reply) => {
    if (req.method === 'GET' || req.method === 'HEAD') return;
    log.info({ actor: (req as typeof req & { actor?: string }).actor ?? null, method: req.method, route: req.routeOptions.url ?? null, params: req.params, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'admin action');
  });
  app.get('/api/v1/openapi.json', { schema: { hide: true } }, () => app.swagger());
  return app;
}
