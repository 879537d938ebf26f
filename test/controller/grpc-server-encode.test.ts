import t from 'tap';
import { serverDefinition, unpooled } from '../../src/controller/node-api/grpc-server.ts';
import { nodeService } from '../../src/rpc/proto.ts';

t.test('an encoded Watch event is kept in memory of its own, not as a slice of a pool chunk', async (t) => {
  const small = Buffer.from('x'.repeat(40)); // a slice of the shared pool
  t.ok(small.buffer.byteLength > 1000, 'Node pools small Buffers');
  const own = unpooled(small);
  t.equal(own.buffer.byteLength, 40);
  t.same(own, small);
  const big = Buffer.alloc(8192);
  t.equal(unpooled(big), big, 'a large Buffer is left as it is');

  const def = serverDefinition();
  const ev = { version: 7, delta: { upserted: [], removed: ['k'.repeat(44)] } };
  const plain = nodeService().service.Watch!.responseSerialize(ev);
  t.ok(plain.buffer.byteLength > plain.byteLength * 2, 'the plain encoder gives a slice of a larger block');
  const b = def.Watch!.responseSerialize(ev);
  t.equal(b.buffer.byteLength, b.byteLength, 'the encoding holds only its own bytes');
  t.equal(def.Watch!.responseSerialize(ev), b, 'encoded once per event object');
  t.same(nodeService().service.Watch!.responseDeserialize(b), def.Watch!.responseDeserialize(nodeService().service.Watch!.responseSerialize(ev)), 'the same bytes as the plain encoder');
});
