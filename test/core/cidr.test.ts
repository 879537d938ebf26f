// src/core/cidr.ts: IPv4 prefix arithmetic on uint32 addresses.
import t from 'tap';
import {
  formatPrefix, isHostOf, maskOf, MAX_PREFIX, MIN_PREFIX, overlaps, parseIPv4, parseNetworkCidr, sizeOf, uintOfValid, uintToIp,
} from '../../src/core/cidr.ts';

const invalid = (message: RegExp) => ({ code: 'INVALID_ARGUMENT', message });

t.test('addresses to uint32 and back, across the sign bit', async (t) => {
  t.equal(parseIPv4('0.0.0.0'), 0);
  t.equal(parseIPv4('10.0.0.1'), 0x0a000001);
  t.equal(parseIPv4('255.255.255.255'), 0xffffffff);
  t.equal(parseIPv4('192.168.1.2'), 0xc0a80102, 'above 2^31 stays positive');
  for (const ip of ['0.0.0.0', '10.1.2.3', '128.0.0.0', '192.168.255.1', '255.255.255.255']) {
    t.equal(uintToIp(parseIPv4(ip)), ip);
    t.equal(uintOfValid(ip), parseIPv4(ip), `uintOfValid agrees with parseIPv4 on ${ip}`);
  }
});

t.test('parseIPv4 refuses anything but four decimal octets, naming what was asked for', async (t) => {
  for (const bad of ['10.0.0', '10.0.0.256', '10.0.0.1/24', 'a.b.c.d', '0x0a.0.0.1', '::1', '']) {
    t.throws(() => parseIPv4(bad, 'gateway'), { code: 'INVALID_ARGUMENT', message: /^gateway ".*" is not an IPv4 address$/ }, bad);
  }
});

t.test('parseNetworkCidr: /8 to /30, host bits zero, surrounding blanks ignored', async (t) => {
  t.same(parseNetworkCidr('10.10.0.0/24'), { base: 0x0a0a0000, bits: 24 });
  t.same(parseNetworkCidr(' 172.16.0.0/12 '), { base: 0xac100000, bits: 12 });
  t.same(parseNetworkCidr(`10.0.0.0/${MIN_PREFIX}`), { base: 0x0a000000, bits: MIN_PREFIX });
  t.same(parseNetworkCidr(`10.0.0.4/${MAX_PREFIX}`), { base: 0x0a000004, bits: MAX_PREFIX });
  t.throws(() => parseNetworkCidr('10.0.0.0/7'), invalid(/prefix length \/7; meshctl networks are \/8 to \/30/));
  t.throws(() => parseNetworkCidr('10.0.0.0/31'), invalid(/prefix length \/31/));
  t.throws(() => parseNetworkCidr('10.0.0.0'), invalid(/is not an IPv4 prefix/));
  t.throws(() => parseNetworkCidr('10.0.0.0/'), invalid(/is not an IPv4 prefix/));
  t.throws(() => parseNetworkCidr('10.0.0.300/24'), invalid(/is not an IPv4 prefix/));
  t.throws(() => parseNetworkCidr('10.0.0.1/24'), { code: 'INVALID_ARGUMENT', message: /host bits set/, hint: 'Did you mean 10.0.0.0/24?' });
});

t.test('masks and sizes', async (t) => {
  t.equal(maskOf(0), 0);
  t.equal(maskOf(8), 0xff000000);
  t.equal(maskOf(24), 0xffffff00);
  t.equal(maskOf(32), 0xffffffff);
  t.equal(sizeOf({ base: 0, bits: 24 }), 256);
  t.equal(sizeOf({ base: 0, bits: 30 }), 4);
  t.equal(formatPrefix(parseNetworkCidr('192.168.4.0/22')), '192.168.4.0/22');
});

t.test('overlaps: nested, equal, adjacent and disjoint prefixes', async (t) => {
  const p = (s: string) => parseNetworkCidr(s);
  t.ok(overlaps(p('10.0.0.0/8'), p('10.20.0.0/16')), 'nested');
  t.ok(overlaps(p('10.20.0.0/16'), p('10.0.0.0/8')), 'nested, other order');
  t.ok(overlaps(p('10.0.0.0/24'), p('10.0.0.0/24')), 'equal');
  t.notOk(overlaps(p('10.0.0.0/24'), p('10.0.1.0/24')), 'adjacent: the last address of one is not the first of the other');
  t.notOk(overlaps(p('10.0.1.0/24'), p('10.0.0.0/24')), 'adjacent, other order');
  t.notOk(overlaps(p('192.168.0.0/16'), p('10.0.0.0/8')), 'disjoint');
  t.ok(overlaps(p('192.168.0.0/16'), p('192.168.255.252/30')), 'the last /30 of a /16');
  const one = (ip: string) => ({ base: parseIPv4(ip), bits: 32 });
  t.ok(overlaps(one('10.0.0.255'), p('10.0.0.0/24')), 'a single address on the last address of a prefix');
  t.ok(overlaps(p('10.0.0.0/24'), one('10.0.0.0')), 'a single address on the first address');
  t.notOk(overlaps(one('10.0.1.0'), p('10.0.0.0/24')), 'the address just past the end');
});

t.test('isHostOf: neither the network nor the broadcast address, nothing outside', async (t) => {
  const n = parseNetworkCidr('10.0.0.0/30');
  t.notOk(isHostOf(n, parseIPv4('10.0.0.0')), 'network address');
  t.ok(isHostOf(n, parseIPv4('10.0.0.1')));
  t.ok(isHostOf(n, parseIPv4('10.0.0.2')));
  t.notOk(isHostOf(n, parseIPv4('10.0.0.3')), 'broadcast address');
  t.notOk(isHostOf(n, parseIPv4('10.0.0.5')), 'outside');
  t.notOk(isHostOf(n, parseIPv4('9.255.255.255')), 'below');
});
