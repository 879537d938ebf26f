// src/core/address.ts: HOST:PORT parsing for listen and public addresses.
import t from 'tap';
import { formatHostPort, isHost, MAX_HOST_NAME, parseHostPort } from '../../src/core/address.ts';

t.test('host:port, [v6]:port, and a bare host only with a default port', async (t) => {
  t.same(parseHostPort('127.0.0.1:8081', 'api address'), { host: '127.0.0.1', port: 8081 });
  t.same(parseHostPort('  ctl.example.org:50051 ', 'grpc address'), { host: 'ctl.example.org', port: 50051 });
  t.same(parseHostPort('[fd00::1]:51820', 'endpoint'), { host: 'fd00::1', port: 51820 });
  t.same(parseHostPort('[fd00::1]', 'endpoint', 51821), { host: 'fd00::1', port: 51821 });
  t.same(parseHostPort('10.0.0.9', 'endpoint', 51821), { host: '10.0.0.9', port: 51821 });
  t.same(parseHostPort('10.0.0.9:1', 'endpoint', 51821), { host: '10.0.0.9', port: 1 }, 'a given port wins over the default');
});

t.test('refusals name the field and give an example fitting it', async (t) => {
  t.throws(() => parseHostPort('127.0.0.1', 'api address'), { code: 'INVALID_ARGUMENT', message: 'api address "127.0.0.1" is not HOST:PORT', hint: 'For example: 127.0.0.1:8081' });
  t.throws(() => parseHostPort('0.0.0.0', 'grpc address'), { message: 'grpc address "0.0.0.0" is not HOST:PORT', hint: 'For example: 0.0.0.0:50051' });
  t.throws(() => parseHostPort('fd00::1:80', 'endpoint', 1), { code: 'INVALID_ARGUMENT' }, 'an IPv6 address needs brackets');
  t.throws(() => parseHostPort('host name:80', 'endpoint'), { code: 'INVALID_ARGUMENT' }, 'no blanks in a host');
  t.throws(() => parseHostPort('', 'endpoint', 1), { code: 'INVALID_ARGUMENT' });
  t.throws(() => parseHostPort('h:x', 'endpoint'), { code: 'INVALID_ARGUMENT' }, 'a port is digits');
});

t.test('ports 1-65535 only', async (t) => {
  t.throws(() => parseHostPort('h:0', 'api address'), { code: 'INVALID_ARGUMENT', message: 'api address port 0 is out of range 1-65535' });
  t.throws(() => parseHostPort('h:65536', 'api address'), { message: /65536 is out of range/ });
  t.equal(parseHostPort('h:65535', 'api address').port, 65535);
});

t.test('formatHostPort brackets IPv6 only, and round-trips', async (t) => {
  t.equal(formatHostPort({ host: '10.0.0.1', port: 80 }), '10.0.0.1:80');
  t.equal(formatHostPort({ host: 'fd00::1', port: 80 }), '[fd00::1]:80');
  for (const s of ['10.0.0.1:80', '[fd00::1]:80', 'example.org:443']) t.equal(formatHostPort(parseHostPort(s, 'x')), s);
});

t.test('isHost: IP literals, or DNS names of at most 253 characters with 1-63 character labels', async (t) => {
  for (const ok of ['10.0.0.1', 'fd00::1', 'vpn.example.com', 'vpn.example.com.', 'a', 'x-1.y', `${'a'.repeat(63)}.org`, `${'a.'.repeat(126)}b`]) t.ok(isHost(ok), ok);
  for (const bad of ['', 'a_b', '-a', 'a-', 'a..b', `${'a'.repeat(64)}.org`, `${'a.'.repeat(126)}bc`, '10.0.0.256', '1.2.3', 'a b', '[fd00::1]']) t.notOk(isHost(bad), bad);
  t.equal(MAX_HOST_NAME, 253);
});
