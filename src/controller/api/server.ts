// The admin REST API: fastify with schema validation, bearer-token auth on every route,
// problem+json errors and an OpenAPI document.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import type { Logger } from 'pino';
import { hashSecret } from '../../core/secret.ts';
import { MeshError } from '../../core/errors.ts';
import type { Store } from '../store/store.ts';
import type { AdminService } from '../services/admin.ts';
import { errorHandler, sendProblem, toProblem } from './problem.ts';
import { registerRoutes } from './routes.ts';
import { scrape } from '../metrics.ts';

export const BODY_LIMIT = 64 * 1024;

/** Resolves to the actor name for a valid bearer token, else throws UNAUTHENTICATED. */
export async function authenticate(store: Store, header: string | undefined): Promise<string> {
  const m = /^Bearer ([A-Za-z0-9_\-.~+/=]{16,512})$/.exec(header ?? '');
  if (!m) {
    throw new MeshError('UNAUTHENTICATED', 'this API needs an admin token (Authorization: Bearer TOKEN)', {
      hint: 'Pass --token or MESHCTL_TOKEN; on the controller host the token is in <data-dir>/admin.token',
    });
  }
  const hash = hashSecret(m[1]!);
  if (!(await store.hasAdminToken(hash))) {
    throw new MeshError('UNAUTHENTICATED', 'the admin token was not accepted', { hint: 'Check --token / MESHCTL_TOKEN against <data-dir>/admin.token' });
  }
  return `admin:${hash.slice(0, 8)}`;
}

export async function buildApi(store: Store, svc: AdminService, log: Logger, version: string): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: log as unknown as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT,
    logController: new LogController({ disableRequestLogging: true }),
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
  });
  await app.register(swagger, {
    openapi: {
      info: { title: 'meshctl admin API', version },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  app.addHook('onRequest', async (req) => {
    (req as typeof req & { actor?: string }).actor = await authenticate(store, req.headers.authorization);
  });
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(async (req, reply) => {
    // Authenticate before saying what exists.
    try {
      await authenticate(store, req.headers.authorization);
    } catch (err) {
      return sendProblem(reply, toProblem(err));
    }
    return sendProblem(reply, toProblem(new MeshError('NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`, { hint: 'See GET /api/v1/openapi.json' })));
  });
  registerRoutes(app, svc);
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
