// GET /api/v1/events: the admin event stream (server-sent events). Authenticated by the API's
// onRequest hook like every route; then the response is taken over and fed by the EventLog.
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { EventLog } from '../events/event-log.ts';
import type { AdminService } from '../services/admin.ts';
import { ProblemSchema } from './schemas.ts';

export const EventsQuery = Type.Object({
  network: Type.Optional(Type.String({ maxLength: 63, description: 'only events of this network' })),
  since: Type.Optional(Type.String({ maxLength: 64, description: 'resume after this event id (the Last-Event-ID header wins when both are given)' })),
}, { additionalProperties: false });

const DESCRIPTION = [
  'Server-sent events (text/event-stream).',
  '`event: change`, `id: <cursor>`, `data: <Change JSON>` ({kind, network, version, ...}) for every change the controller fans out;',
  '`event: status`, `data: {network, nodeId, name, status, lastContact}` when a node\'s health status changes;',
  '`event: reset`, `data: {}` when the cursor given is unknown or too old (or the client read too slowly): take a fresh snapshot.',
  'The stream opens with an id-only frame carrying the current cursor; a `: ping` comment comes every 15 s.',
].join(' ');

export function registerEventRoutes(app: FastifyInstance, svc: AdminService, events: EventLog): void {
  app.get<{ Querystring: { network?: string; since?: string } }>('/api/v1/events', {
    schema: {
      tags: ['events'],
      description: DESCRIPTION,
      querystring: EventsQuery,
      headers: Type.Object({ 'last-event-id': Type.Optional(Type.String({ maxLength: 64 })) }),
      response: { 200: { description: 'an event stream', content: { 'text/event-stream': { schema: { type: 'string' } } } }, 400: ProblemSchema, 401: ProblemSchema, 404: ProblemSchema },
    },
  }, async (req, reply) => {
    if (req.query.network !== undefined) await svc.getNetwork(req.query.network); // 404 for a typo, before the stream opens
    const header = req.headers['last-event-id'];
    const since = (typeof header === 'string' && header !== '' ? header : undefined) ?? req.query.since;
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no', // nginx: do not buffer the stream
    });
    res.flushHeaders();
    let unsubscribe = () => {};
    const done = () => unsubscribe();
    res.on('close', done);
    req.raw.on('close', done);
    if (res.destroyed) return;
    unsubscribe = events.subscribe({
      write: (chunk) => {
        if (!res.destroyed && !res.writableEnded) res.write(chunk);
      },
      buffered: () => res.writableLength,
      end: () => {
        if (!res.writableEnded) res.end();
      },
    }, { ...(req.query.network !== undefined ? { network: req.query.network } : {}), ...(since !== undefined ? { since } : {}) });
  });
}
