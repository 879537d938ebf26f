// The bare grpc-js server `npm run bench:converge` compares the controller with: the same proto
// methods, the same TLS certificate chain and server options as the controller (and the same
// malloc setting, from the bench), no meshctl code.
// CheckIn answers a constant; Watch sends one small event (about 100 bytes) and holds the stream,
// so that N open streams measure what grpc-js, HTTP/2 and TLS cost per stream.
//   node bench/converge-bare.ts DATA_DIR   (prints "PORT <n>"; answers any IPC message with
//   process.memoryUsage())
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { nodeService } from '../src/rpc/proto.ts';

const dir = join(process.argv[2]!, 'tls');
const [ca, cert, key] = await Promise.all(['ca.crt', 'server.crt', 'server.key'].map((f) => readFile(join(dir, f), 'utf8')));
const server = new grpc.Server({ 'grpc.keepalive_time_ms': 30_000, 'grpc.keepalive_timeout_ms': 10_000, 'grpc.keepalive_permit_without_calls': 1, 'grpc.max_receive_message_length': 1 << 20 });
const held = new Set<grpc.ServerWritableStream<unknown, unknown>>();
server.addService(nodeService().service, {
  CheckIn: (call: grpc.ServerUnaryCall<{ knownVersion: number }, unknown>, cb: grpc.sendUnaryData<unknown>) => {
    cb(null, { version: call.request.knownVersion, changed: false });
  },
  Watch: (call: grpc.ServerWritableStream<unknown, unknown>) => {
    held.add(call);
    call.on('cancelled', () => held.delete(call));
    call.write({ version: 1, delta: { upserted: [], removed: ['x'.repeat(88)] } });
  },
});
const creds = grpc.ServerCredentials.createSsl(null, [{ cert_chain: Buffer.from(`${cert!.trim()}\n${ca!.trim()}\n`), private_key: Buffer.from(key!) }], false);
const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', creds, (err, p) => (err ? reject(err) : resolve(p))));
process.stdout.write(`PORT ${port}\n`);
process.once('SIGTERM', () => {
  server.forceShutdown();
  process.disconnect?.();
});
// the bench asks for process.memoryUsage() over IPC, to show where the memory is
process.on('message', () => process.send?.(process.memoryUsage()));
