import t from 'tap';
import { wireGuardType } from '../../src/core/wg-packet.ts';

const msg = (type: number, len: number, reserved = 0) => {
  const b = new Uint8Array(len);
  b[0] = type;
  b[1] = reserved;
  return b;
};

t.test('the four WireGuard messages are recognised by type and length', async (t) => {
  t.equal(wireGuardType(msg(1, 148)), 1);
  t.equal(wireGuardType(msg(2, 92)), 2);
  t.equal(wireGuardType(msg(3, 64)), 3);
  t.equal(wireGuardType(msg(4, 32)), 4, 'a keepalive');
  t.equal(wireGuardType(msg(4, 32 + 16 * 88)), 4, 'a data packet');
  t.equal(wireGuardType(msg(4, 1452)), 4, 'a full-size packet at MTU 1420 (padding stops at the MTU: not a multiple of 16)');
});

t.test('anything else is refused', async (t) => {
  t.equal(wireGuardType(msg(1, 149)), 0, 'initiation of the wrong length');
  t.equal(wireGuardType(msg(2, 148)), 0);
  t.equal(wireGuardType(msg(4, 16)), 0, 'shorter than a header and tag');
  t.equal(wireGuardType(msg(5, 148)), 0, 'unknown type');
  t.equal(wireGuardType(msg(1, 148, 7)), 0, 'reserved bytes not zero');
  t.equal(wireGuardType(new TextEncoder().encode('GET / HTTP/1.1\r\nHost: x\r\n\r\n123456')), 0);
});
