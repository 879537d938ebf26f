// Admin REST routes for gateways and external clients. Handlers are one service call each.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { GatewayService } from '../services/gateways.ts';
import { ClientCreate, ClientSchema, EgressSet, NetworkItemParams, NetworkParams, NodeSchema, ProblemSchema } from './schemas.ts';

type P = { network: string };
type PI = { network: string; name: string };
const actor = (req: FastifyRequest) => (req as FastifyRequest & { actor?: string }).actor ?? 'admin';
const errors = { 400: ProblemSchema, 401: ProblemSchema, 404: ProblemSchema, 409: ProblemSchema };

export function registerGatewayRoutes(app: FastifyInstance, svc: GatewayService): void {
  const nodes = '/api/v1/networks/:network/nodes/:name';
  const node = { tags: ['gateways'], params: NetworkItemParams, response: { 200: NodeSchema, ...errors } };
  app.put<{ Params: PI }>(`${nodes}/ingress`, { schema: node }, (req) => svc.setIngress(req.params.network, req.params.name, true, actor(req)));
  app.delete<{ Params: PI }>(`${nodes}/ingress`, { schema: node }, (req) => svc.setIngress(req.params.network, req.params.name, false, actor(req)));
  app.put<{ Params: PI; Body: EgressSet }>(`${nodes}/egress`, { schema: { ...node, body: EgressSet } },
    (req) => svc.setEgress(req.params.network, req.params.name, { ranges: req.body.ranges, nat: req.body.nat ?? false }, actor(req)));
  app.delete<{ Params: PI }>(`${nodes}/egress`, { schema: node }, (req) => svc.setEgress(req.params.network, req.params.name, null, actor(req)));

  const clients = '/api/v1/networks/:network/clients';
  const one = { tags: ['clients'], params: NetworkItemParams, response: { 200: ClientSchema, ...errors } };
  app.get<{ Params: P }>(clients, { schema: { tags: ['clients'], params: NetworkParams, response: { 200: Type.Array(ClientSchema), ...errors } } },
    (req) => svc.listClients(req.params.network));
  app.post<{ Params: P; Body: ClientCreate }>(clients, { schema: { tags: ['clients'], params: NetworkParams, body: ClientCreate, response: { 201: ClientSchema, ...errors } } },
    async (req, reply) => reply.status(201).send(await svc.createClient(req.params.network, req.body, actor(req))));
  app.get<{ Params: PI }>(`${clients}/:name`, { schema: one }, (req) => svc.getClient(req.params.network, req.params.name));
  app.delete<{ Params: PI }>(`${clients}/:name`, { schema: one }, (req) => svc.deleteClient(req.params.network, req.params.name, actor(req)));
  app.post<{ Params: PI }>(`${clients}/:name/enable`, { schema: one }, (req) => svc.setClientEnabled(req.params.network, req.params.name, true, actor(req)));
  app.post<{ Params: PI }>(`${clients}/:name/disable`, { schema: one }, (req) => svc.setClientEnabled(req.params.network, req.params.name, false, actor(req)));
}
