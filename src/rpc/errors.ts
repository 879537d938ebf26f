// One mapping between MeshError and gRPC status, both ways. The stable code and hint travel
// in trailing metadata so that the agent shows the controller's own words.
import * as grpc from '@grpc/grpc-js';
import { MeshError, isErrorCode, type ErrorCode } from '../core/errors.ts';

const TO_GRPC: Partial<Record<ErrorCode, grpc.status>> = {
  INVALID_ARGUMENT: grpc.status.INVALID_ARGUMENT,
  TOKEN_INVALID: grpc.status.INVALID_ARGUMENT,
  NOT_FOUND: grpc.status.NOT_FOUND,
  NODE_REMOVED: grpc.status.NOT_FOUND,
  ALREADY_EXISTS: grpc.status.ALREADY_EXISTS,
  NAME_TAKEN: grpc.status.ALREADY_EXISTS,
  UNAUTHENTICATED: grpc.status.UNAUTHENTICATED,
  PERMISSION_DENIED: grpc.status.PERMISSION_DENIED,
  KEY_INVALID: grpc.status.PERMISSION_DENIED,
  KEY_REVOKED: grpc.status.PERMISSION_DENIED,
  KEY_EXPIRED: grpc.status.PERMISSION_DENIED,
  KEY_USED_UP: grpc.status.PERMISSION_DENIED,
  IP_POOL_EXHAUSTED: grpc.status.RESOURCE_EXHAUSTED,
  RATE_LIMITED: grpc.status.RESOURCE_EXHAUSTED,
  STORE_UNAVAILABLE: grpc.status.UNAVAILABLE,
};

/** A grpc-js error for a thrown value; internal errors say nothing of their details. */
export function toGrpcError(err: unknown): Partial<grpc.StatusObject> {
  const metadata = new grpc.Metadata();
  if (err instanceof MeshError) {
    metadata.set('meshctl-code', err.code);
    if (err.hint) metadata.set('meshctl-hint', err.hint);
    return { code: TO_GRPC[err.code] ?? grpc.status.INTERNAL, details: err.message, metadata };
  }
  metadata.set('meshctl-code', 'INTERNAL');
  return { code: grpc.status.INTERNAL, details: 'internal error; see the controller log', metadata };
}

/** Why a call found no controller, in a user's words, from grpc-js's status details. */
export function unreachableReason(err: Pick<grpc.ServiceError, 'code' | 'details'>): string {
  const d = err.details ?? '';
  if (/ECONNREFUSED/.test(d)) return 'connection refused (nothing listens on that port, or a firewall rejects it)';
  if (/ENOTFOUND|EAI_AGAIN|Name resolution failed|DNS resolution failed/i.test(d)) return 'the host name does not resolve';
  if (/EHOSTUNREACH|ENETUNREACH/.test(d)) return 'no route to that address from this host';
  if (/ECONNRESET|EPIPE/.test(d)) return 'the connection was cut';
  if (/certificate|SSL|TLS|handshake/i.test(d)) return 'the TLS handshake failed (is that port the controller\'s node API?)';
  if (err.code === grpc.status.DEADLINE_EXCEEDED || /ETIMEDOUT|Deadline exceeded|timed? ?out/i.test(d)) return 'no answer in time (the host is down, or packets are dropped on the way)';
  return 'no connection could be made';
}

/** A MeshError for a failed call, with the controller's code and hint when it sent them. */
export function fromGrpcError(err: grpc.ServiceError, server: string): MeshError {
  const code = err.metadata?.get('meshctl-code')[0]?.toString();
  const hint = err.metadata?.get('meshctl-hint')[0]?.toString();
  if (code && isErrorCode(code)) return new MeshError(code, err.details, hint ? { hint } : {});
  if (err.code === grpc.status.UNAVAILABLE || err.code === grpc.status.DEADLINE_EXCEEDED) {
    // grpc-js details read like "No connection established. Last error: connect ECONNREFUSED
    // 10.0.0.1:50051 (2026-…). Resolution note: …": say what they mean; the original is the cause.
    return new MeshError('UNREACHABLE', `cannot reach the controller at ${server}: ${unreachableReason(err)}`, {
      hint: 'Check that `meshctl server` runs there and that this host can reach its gRPC port',
      cause: err,
    });
  }
  return new MeshError('INTERNAL', `the controller at ${server} failed: ${err.details}`, { cause: err });
}
