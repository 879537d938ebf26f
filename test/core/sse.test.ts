import t from 'tap';
import { SseParser, sseComment, sseFrame } from '../../src/core/sse.ts';

t.test('frames: event, id, one data line per line', async (t) => {
  t.equal(sseFrame({ event: 'change', id: 'x-1', data: '{"a":1}' }), 'event: change\nid: x-1\ndata: {"a":1}\n\n');
  t.equal(sseFrame({ data: 'a\nb' }), 'data: a\ndata: b\n\n');
  t.equal(sseFrame({ id: 'x-2' }), 'id: x-2\n\n');
  t.equal(sseFrame({ event: 'a\nb', data: '' }), 'event: a b\ndata: \n\n', 'no field can break out of its line');
  t.equal(sseComment('ping'), ': ping\n\n');
});

t.test('the parser takes chunks split anywhere and follows the standard', async (t) => {
  const text = sseFrame({ event: 'change', id: 'e-1', data: 'line1\nline2' }) + sseComment('ping') + sseFrame({ id: 'e-2' }) + 'data:no-space\r\n\r\n' + 'event: reset\rdata: {}\r\r\n';
  for (const size of [1, 2, 3, 7, text.length]) {
    const p = new SseParser();
    const out = [];
    for (let i = 0; i < text.length; i += size) out.push(...p.feed(text.slice(i, i + size)));
    t.same(out, [
      { event: 'change', data: 'line1\nline2', id: 'e-1' },
      { event: 'message', data: 'no-space', id: 'e-2' },
      { event: 'reset', data: '{}', id: 'e-2' },
    ], `chunks of ${size}`);
    t.equal(p.lastEventId, 'e-2');
  }
  const p = new SseParser();
  t.same(p.feed('data: x\n'), [], 'nothing until the blank line');
  t.same(p.feed('\n'), [{ event: 'message', data: 'x', id: '' }]);
  t.same(p.feed('id: a\0b\ndata: y\n\n'), [{ event: 'message', data: 'y', id: '' }], 'an id with NUL is ignored');
  t.same(p.feed('field-without-colon\nevent\ndata\n\n'), [{ event: 'message', data: '', id: '' }]);
});
