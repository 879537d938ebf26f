// A MeshError is a failure a person can act on: a stable code, a message naming what was
// wrong, an optional hint ("Try this:"), and the HTTP status it maps to at the API edge.
export type ErrorCode =
  | 'INVALID_ARGUMENT'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'CIDR_OVERLAP'
  | 'IP_POOL_EXHAUSTED'
  | 'NETWORK_NOT_EMPTY'
  | 'UNAUTHENTICATED'
  | 'PERMISSION_DENIED'
  | 'KEY_REVOKED'
  | 'KEY_EXPIRED'
  | 'KEY_USED_UP'
  | 'KEY_INVALID'
  | 'NODE_REMOVED'
  | 'NAME_TAKEN'
  | 'NOT_A_GATEWAY'
  | 'GATEWAY_IN_USE'
  | 'RATE_LIMITED'
  | 'DATA_DIR_LOCKED'
  | 'CONFIG_INVALID'
  | 'TOKEN_INVALID'
  | 'TLS_PIN_MISMATCH'
  | 'INSECURE_TRANSPORT'
  | 'UNREACHABLE'
  | 'STORE_UNAVAILABLE'
  | 'NOT_JOINED'
  | 'NOT_ROOT'
  | 'WIREGUARD_UNAVAILABLE'
  | 'COMMAND_FAILED'
  | 'PAYLOAD_TOO_LARGE'
  | 'USAGE'
  | 'INTERNAL';

const HTTP_STATUS: Record<ErrorCode, number> = {
  INVALID_ARGUMENT: 400,
  USAGE: 400,
  CONFIG_INVALID: 400,
  TOKEN_INVALID: 400,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  NAME_TAKEN: 409,
  NOT_A_GATEWAY: 409,
  GATEWAY_IN_USE: 409,
  CIDR_OVERLAP: 409,
  IP_POOL_EXHAUSTED: 409,
  NETWORK_NOT_EMPTY: 409,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  KEY_REVOKED: 403,
  KEY_EXPIRED: 403,
  KEY_USED_UP: 403,
  KEY_INVALID: 403,
  NODE_REMOVED: 404,
  RATE_LIMITED: 429,
  PAYLOAD_TOO_LARGE: 413,
  DATA_DIR_LOCKED: 500,
  TLS_PIN_MISMATCH: 502,
  INSECURE_TRANSPORT: 400,
  UNREACHABLE: 503,
  STORE_UNAVAILABLE: 503,
  NOT_JOINED: 404,
  NOT_ROOT: 403,
  WIREGUARD_UNAVAILABLE: 500,
  COMMAND_FAILED: 500,
  INTERNAL: 500,
};

export class MeshError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  constructor(code: ErrorCode, message: string, opts: { hint?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'MeshError';
    this.code = code;
    this.hint = opts.hint;
  }
  get httpStatus(): number {
    return HTTP_STATUS[this.code];
  }
}

/** Maps an HTTP status back to the closest code, for problems that carry none. */
export function codeForStatus(status: number): ErrorCode {
  for (const [code, s] of Object.entries(HTTP_STATUS)) if (s === status) return code as ErrorCode;
  return 'INTERNAL';
}

export const isErrorCode = (s: unknown): s is ErrorCode => typeof s === 'string' && s in HTTP_STATUS;

export const invalid = (message: string, hint?: string) => new MeshError('INVALID_ARGUMENT', message, hint === undefined ? {} : { hint });
