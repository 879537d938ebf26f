// The admin REST routes under /api/v1. Handlers are one service call each.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { AdminService } from '../services/admin.ts';
import { registerGatewayRoutes } from './gateway-routes.ts';
import {
  AdminTokenCreate, AdminTokenSchema, AuditEntrySchema, AuditQuery, NameParams, ForceQuery, KeyCreate, KeySchema, NetworkCreate, NetworkItemParams, NetworkParams, NetworkSchema, NetworkUpdate,
  NodeSchema, NodeDetailSchema, NetworkStatusSchema, ProblemSchema, RecordCreate, RecordSchema, DnsExportSchema,
} from './schemas.ts';

type P = { network: string };
type PI = { network: string; name: string };
const actor = (req: FastifyRequest) => (req as FastifyRequest & { actor?: string }).actor ?? 'admin';
const errors = { 400: ProblemSchema, 401: ProblemSchema, 404: ProblemSchema, 409: ProblemSchema };

export function registerRoutes(app: FastifyInstance, svc: AdminService): void {
  const v1 = '/api/v1';

  app.get(`${v1}/networks`, { schema: { tags: ['networks'], response: { 200: Type.Array(NetworkSchema), ...errors } } }, () => svc.listNetworks());
  app.post<{ Body: NetworkCreate }>(`${v1}/networks`, { schema: { tags: ['networks'], body: NetworkCreate, response: { 201: NetworkSchema, ...errors } } },
    async (req, reply) => reply.status(201).send(await svc.createNetwork(req.body, actor(req))));
  app.get<{ Params: P }>(`${v1}/networks/:network`, { schema: { tags: ['networks'], params: NetworkParams, response: { 200: NetworkSchema, ...errors } } },
    (req) => svc.getNetwork(req.params.network));
  app.patch<{ Params: P; Body: NetworkUpdate }>(`${v1}/networks/:network`, { schema: { tags: ['networks'], params: NetworkParams, body: NetworkUpdate, response: { 200: NetworkSchema, ...errors } } },
    (req) => svc.updateNetwork(req.params.network, req.body, actor(req)));
  app.delete<{ Params: P; Querystring: { force?: 'true' | 'false' } }>(`${v1}/networks/:network`, { schema: { tags: ['networks'], params: NetworkParams, querystring: ForceQuery, response: errors } },
    async (req, reply) => {
      await svc.deleteNetwork(req.params.network, req.query.force === 'true', actor(req));
      return reply.status(204).send();
    });

  app.get<{ Params: P }>(`${v1}/networks/:network/keys`, { schema: { tags: ['keys'], params: NetworkParams, response: { 200: Type.Array(KeySchema), ...errors } } },
    (req) => svc.listKeys(req.params.network));
  app.post<{ Params: P; Body: KeyCreate }>(`${v1}/networks/:network/keys`, { schema: { tags: ['keys'], params: NetworkParams, body: KeyCreate, response: { 201: KeySchema, ...errors } } },
    async (req, reply) => reply.status(201).send(await svc.createKey(req.params.network, req.body, actor(req))));
  app.delete<{ Params: PI }>(`${v1}/networks/:network/keys/:name`, { schema: { tags: ['keys'], params: NetworkItemParams, response: { 200: KeySchema, ...errors } } },
    (req) => svc.revokeKey(req.params.network, req.params.name, actor(req)));

  app.get(`${v1}/nodes`, { schema: { tags: ['nodes'], response: { 200: Type.Array(NodeSchema), ...errors } } }, () => svc.listNodes());
  app.get<{ Params: P }>(`${v1}/networks/:network/nodes`, { schema: { tags: ['nodes'], params: NetworkParams, response: { 200: Type.Array(NodeSchema), ...errors } } },
    (req) => svc.listNodes(req.params.network));
  app.get<{ Params: P }>(`${v1}/networks/:network/status`, {
    schema: { tags: ['nodes'], description: 'Every node with its health and what it reported at its last check-in (handshakes per peer, traffic, version applied): soft state, rebuilt by check-ins after a restart.', params: NetworkParams, response: { 200: NetworkStatusSchema, ...errors } },
  }, (req) => svc.networkStatus(req.params.network));
  app.get<{ Params: PI }>(`${v1}/networks/:network/nodes/:name`, { schema: { tags: ['nodes'], params: NetworkItemParams, response: { 200: NodeDetailSchema, ...errors } } },
    (req) => svc.getNode(req.params.network, req.params.name));
  app.post<{ Params: PI }>(`${v1}/networks/:network/nodes/:name/approve`, { schema: { tags: ['nodes'], params: NetworkItemParams, response: { 200: NodeSchema, ...errors } } },
    (req) => svc.approveNode(req.params.network, req.params.name, actor(req)));
  app.delete<{ Params: PI }>(`${v1}/networks/:network/nodes/:name`, { schema: { tags: ['nodes'], params: NetworkItemParams, response: { 200: NodeSchema, ...errors } } },
    (req) => svc.deleteNode(req.params.network, req.params.name, actor(req)));

  app.get<{ Params: P }>(`${v1}/networks/:network/dns`, { schema: { tags: ['dns'], params: NetworkParams, response: { 200: Type.Array(RecordSchema), ...errors } } },
    (req) => svc.listDns(req.params.network));
  app.post<{ Params: P; Body: RecordCreate }>(`${v1}/networks/:network/dns`, { schema: { tags: ['dns'], params: NetworkParams, body: RecordCreate, response: { 201: RecordSchema, ...errors } } },
    async (req, reply) => reply.status(201).send(await svc.addDns(req.params.network, req.body.name, req.body.address, actor(req))));
  app.get<{ Params: P }>(`${v1}/networks/:network/dns-export`, { schema: { tags: ['dns'], params: NetworkParams, response: { 200: DnsExportSchema, ...errors } } },
    (req) => svc.exportDns(req.params.network));
  app.delete<{ Params: PI }>(`${v1}/networks/:network/dns/:name`, { schema: { tags: ['dns'], params: NetworkItemParams, response: errors } },
    async (req, reply) => {
      await svc.removeDns(req.params.network, req.params.name, actor(req));
      return reply.status(204).send();
    });

  app.get(`${v1}/admin/tokens`, { schema: { tags: ['admin'], response: { 200: Type.Array(AdminTokenSchema), ...errors } } }, () => svc.listAdminTokens());
  app.post<{ Body: AdminTokenCreate }>(`${v1}/admin/tokens`, { schema: { tags: ['admin'], body: AdminTokenCreate, response: { 201: AdminTokenSchema, ...errors } } },
    async (req, reply) => reply.status(201).send(await svc.createAdminToken(req.body, actor(req))));
  app.delete<{ Params: { name: string } }>(`${v1}/admin/tokens/:name`, { schema: { tags: ['admin'], params: NameParams, response: { 200: AdminTokenSchema, ...errors } } },
    (req) => svc.revokeAdminToken(req.params.name, actor(req)));
  app.get(`${v1}/admin/whoami`, { schema: { tags: ['admin'], response: { 200: AdminTokenSchema, ...errors } } }, (req) => svc.whoami(actor(req)));
  app.get<{ Querystring: { since?: string; limit?: string; network?: string } }>(`${v1}/audit`, {
    schema: { tags: ['admin'], description: 'The audit log, newest first.', querystring: AuditQuery, response: { 200: Type.Array(AuditEntrySchema), ...errors } },
  }, (req) => svc.listAudit({
    ...(req.query.since !== undefined ? { since: req.query.since } : {}),
    ...(req.query.limit !== undefined ? { limit: Number(req.query.limit) } : {}),
    ...(req.query.network !== undefined ? { network: req.query.network } : {}),
  }));
  registerGatewayRoutes(app, svc.gateways);
}
