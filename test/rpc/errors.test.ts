// src/rpc/errors.ts: MeshError <-> gRPC status, both ways, and unreachable controllers in a user's words.
import t from 'tap';
import * as grpc from '@grpc/grpc-js';
import { fromGrpcError, toGrpcError, unreachableReason } from '../../src/rpc/errors.ts';
import { MeshError } from '../../src/core/errors.ts';

/** A grpc-js ServiceError as a client sees it, from what the server sent. */
function received(sent: Partial<grpc.StatusObject>): grpc.ServiceError {
  return Object.assign(new Error(sent.details ?? ''), { code: sent.code ?? grpc.status.UNKNOWN, details: sent.details ?? '', metadata: sent.metadata ?? new grpc.Metadata() }) as grpc.ServiceError;
}
const failed = (code: grpc.status, details: string) => received({ code, details });

t.test('a MeshError crosses the wire with its code, message and hint', async (t) => {
  const sent = toGrpcError(new MeshError('KEY_EXPIRED', 'key "office" expired', { hint: 'Create a new key' }));
  t.equal(sent.code, grpc.status.PERMISSION_DENIED);
  t.equal(sent.details, 'key "office" expired');
  const back = fromGrpcError(received(sent), '192.0.2.1:50051');
  t.type(back, MeshError);
  t.match(back, { code: 'KEY_EXPIRED', message: 'key "office" expired', hint: 'Create a new key' });
});

t.test('codes without their own status are INTERNAL on the wire but keep their meshctl code; no hint, no hint', async (t) => {
  const sent = toGrpcError(new MeshError('NOT_JOINED', 'not joined'));
  t.equal(sent.code, grpc.status.INTERNAL);
  t.same(sent.metadata!.get('meshctl-hint'), []);
  const back = fromGrpcError(received(sent), 'x:1');
  t.equal(back.code, 'NOT_JOINED');
  t.equal(back.hint, undefined);
});

t.test('anything but a MeshError says nothing of its details', async (t) => {
  const sent = toGrpcError(new Error('SELECT * FROM secrets failed at /srv/x'));
  t.equal(sent.code, grpc.status.INTERNAL);
  t.equal(sent.details, 'internal error; see the controller log');
  t.match(fromGrpcError(received(sent), 'x:1'), { code: 'INTERNAL', message: 'internal error; see the controller log' });
});

t.test('unreachable: each grpc-js failure in words, the original kept as the cause', async (t) => {
  const cases: [grpc.status, string, RegExp][] = [
    [grpc.status.UNAVAILABLE, 'No connection established. Last error: connect ECONNREFUSED 10.0.0.1:50051 (2026-11-26). Resolution note: x', /connection refused/],
    [grpc.status.UNAVAILABLE, 'Name resolution failed for target dns:nowhere.invalid:50051', /does not resolve/],
    [grpc.status.UNAVAILABLE, 'getaddrinfo EAI_AGAIN ctl.example', /does not resolve/],
    [grpc.status.UNAVAILABLE, 'connect EHOSTUNREACH 10.0.0.1:50051', /no route/],
    [grpc.status.UNAVAILABLE, 'read ECONNRESET', /connection was cut/],
    [grpc.status.UNAVAILABLE, 'Connection dropped: SSL routines: wrong version number', /TLS handshake failed/],
    [grpc.status.DEADLINE_EXCEEDED, 'Deadline exceeded after 15.003s', /no answer in time/],
    [grpc.status.UNAVAILABLE, 'connect ETIMEDOUT 10.0.0.1:50051', /no answer in time/],
    [grpc.status.UNAVAILABLE, 'something else entirely', /no connection could be made/],
  ];
  for (const [code, details, words] of cases) {
    const e = fromGrpcError(failed(code, details), '10.0.0.1:50051');
    t.equal(e.code, 'UNREACHABLE', details);
    t.match(e.message, /^cannot reach the controller at 10\.0\.0\.1:50051: /);
    t.match(e.message, words, details);
    t.notMatch(e.message, /Resolution note|Last error/, 'no raw grpc-js text');
    t.match(e.hint, /meshctl server/);
    t.equal((e as Error & { cause?: unknown }).cause instanceof Error, true);
  }
  t.equal(unreachableReason({ code: grpc.status.UNAVAILABLE, details: undefined as unknown as string }), 'no connection could be made', 'no details at all');
});

t.test('any other failure without a meshctl code is INTERNAL, naming the controller', async (t) => {
  const e = fromGrpcError(failed(grpc.status.UNIMPLEMENTED, 'The server does not implement the method /meshctl.Node/Join'), '10.0.0.1:50051');
  t.match(e, { code: 'INTERNAL', message: 'the controller at 10.0.0.1:50051 failed: The server does not implement the method /meshctl.Node/Join' });
  const bogus = new grpc.Metadata();
  bogus.set('meshctl-code', 'NOT_A_CODE');
  t.equal(fromGrpcError(received({ code: grpc.status.UNAVAILABLE, details: 'connect ECONNREFUSED', metadata: bogus }), 'h:1').code, 'UNREACHABLE', 'an unknown meshctl code is not trusted');
});
