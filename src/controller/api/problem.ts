// Errors at the REST edge: every failure is application/problem+json with a stable code.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { MeshError, type ErrorCode } from '../../core/errors.ts';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  hint?: string;
}

export function toProblem(err: unknown): Problem {
  if (err instanceof MeshError) {
    return { type: 'about:blank', title: err.code, status: err.httpStatus, detail: err.message, code: err.code, ...(err.hint ? { hint: err.hint } : {}) };
  }
  const fe = err as FastifyError;
  if (fe && typeof fe === 'object' && 'validation' in fe && fe.validation) {
    return { type: 'about:blank', title: 'INVALID_ARGUMENT', status: 400, detail: `invalid request: ${fe.message}`, code: 'INVALID_ARGUMENT' };
  }
  if (fe?.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return { type: 'about:blank', title: 'PAYLOAD_TOO_LARGE', status: 413, detail: 'request body is too large', code: 'PAYLOAD_TOO_LARGE' };
  }
  if (typeof fe?.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return { type: 'about:blank', title: 'INVALID_ARGUMENT', status: fe.statusCode, detail: fe.message, code: 'INVALID_ARGUMENT' };
  }
  return { type: 'about:blank', title: 'INTERNAL', status: 500, detail: 'internal error; see the controller log', code: 'INTERNAL' };
}

export function sendProblem(reply: FastifyReply, p: Problem): FastifyReply {
  return reply.status(p.status).type('application/problem+json').send(p);
}

export function errorHandler(this: unknown, err: unknown, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const p = toProblem(err);
  if (p.status >= 500) req.log.error({ err }, 'handling request');
  return sendProblem(reply, p);
}
