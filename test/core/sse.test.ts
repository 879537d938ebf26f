import t from 'tap';
import assert from 'node:assert/strict';
import { SseParser } from '../../src/core/sse.ts';

t.test('events split across chunks, comments skipped, ids carried over', async () => {
  const p = new SseParser();
  assert.deepEqual(p.push(': ping\n\nevent: change\nid: 7\ndata: {"a"'), []);
  assert.deepEqual(p.push(':1}\n\n'), [{ event: 'change', data: '{"a":1}', id: '7' }]);
  assert.deepEqual(p.push('data: x\r\ndata: y\r\n\r\nevent: reset\ndata\n\n'), [{ event: 'message', data: 'x\ny', id: '7' }, { event: 'reset', data: '', id: '7' }]);
  assert.equal(p.id, '7');
  assert.deepEqual(p.push('id: 9\nevent: status\ndata: {}\n\n'), [{ event: 'status', data: '{}', id: '9' }]);
  assert.deepEqual(p.push('event: nothing\n\n'), [], 'no data, no event');
});
