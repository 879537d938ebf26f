import t from 'tap';
import assert from 'node:assert/strict';
import { newNetwork, assertNoOverlap, patchNetwork, DEFAULT_LISTEN_PORT, DEFAULT_KEEPALIVE } from '../../src/core/network.ts';
import { parseNetworkCidr, overlaps } from '../../src/core/cidr.ts';
import { MeshError } from '../../src/core/errors.ts';

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof MeshError, `expected MeshError, got ${e}`);
    return { code: e.code, message: e.message, hint: e.hint };
  }
  assert.fail('expected an error');
};

t.test('network names are DNS labels', async () => {
  for (const ok of ['office', 'a', 'a-b', 'x1', 'a'.repeat(63)]) assert.equal(newNetwork({ name: ok, cidr: '10.0.0.0/24' }).name, ok);
  for (const bad of ['Bad_Name', '', '-a', 'a-', 'a.b', 'A', 'a'.repeat(64), 'ü']) {
    const e = code(() => newNetwork({ name: bad, cidr: '10.0.0.0/24' }));
    assert.equal(e.code, 'INVALID_ARGUMENT');
    assert.match(e.message, /network name/);
  }
});

t.test('cidr: IPv4, /8 to /30, host bits zero', async () => {
  assert.deepEqual(parseNetworkCidr('10.10.0.0/24'), { base: 0x0a0a0000, bits: 24 });
  assert.match(code(() => parseNetworkCidr('10.10.0.1/24')).hint!, /10\.10\.0\.0\/24/);
  assert.match(code(() => parseNetworkCidr('300.1.1.0/24')).message, /not an IPv4 prefix/);
  assert.match(code(() => parseNetworkCidr('10.0.0.0/7')).message, /\/7/);
  assert.match(code(() => parseNetworkCidr('10.0.0.0/31')).message, /\/31/);
  assert.match(code(() => parseNetworkCidr('10.0.0.0')).message, /not an IPv4 prefix/);
  assert.match(code(() => parseNetworkCidr('fd00::/64')).message, /not an IPv4 prefix/);
  assert.equal(parseNetworkCidr('10.0.0.0/8').bits, 8);
  assert.equal(parseNetworkCidr('10.0.0.4/30').bits, 30);
});

t.test('defaults and bounds', async () => {
  const n = newNetwork({ name: 'office', cidr: '10.10.0.0/24' });
  assert.deepEqual(n, { name: 'office', cidr: '10.10.0.0/24', listenPort: DEFAULT_LISTEN_PORT, keepalive: DEFAULT_KEEPALIVE, manualApproval: false, domain: 'office.internal', dns: true, version: 1 });
  assert.equal(DEFAULT_LISTEN_PORT, 51821);
  assert.equal(DEFAULT_KEEPALIVE, 20);
  assert.equal(code(() => newNetwork({ name: 'o', cidr: '10.0.0.0/24', listenPort: 0 })).code, 'INVALID_ARGUMENT');
  assert.equal(code(() => newNetwork({ name: 'o', cidr: '10.0.0.0/24', listenPort: 70000 })).code, 'INVALID_ARGUMENT');
  assert.equal(code(() => newNetwork({ name: 'o', cidr: '10.0.0.0/24', keepalive: -1 })).code, 'INVALID_ARGUMENT');
  assert.equal(code(() => newNetwork({ name: 'o', cidr: '10.0.0.0/24', keepalive: 1.5 })).code, 'INVALID_ARGUMENT');
});

t.test('overlap is refused with the other network named', async () => {
  const existing = [{ name: 'office', cidr: '10.10.0.0/24' }];
  const e = code(() => assertNoOverlap('10.10.0.128/25', existing));
  assert.equal(e.code, 'CIDR_OVERLAP');
  assert.match(e.message, /office/);
  assert.equal(code(() => assertNoOverlap('10.0.0.0/8', existing)).code, 'CIDR_OVERLAP');
  assert.doesNotThrow(() => assertNoOverlap('10.10.1.0/24', existing));
  assert.equal(overlaps(parseNetworkCidr('10.10.0.0/25'), parseNetworkCidr('10.10.0.128/25')), false);
});

t.test('patch bumps the version only on a real change', async () => {
  const n = newNetwork({ name: 'office', cidr: '10.10.0.0/24' });
  assert.equal(patchNetwork(n, { keepalive: 20 }).version, 1);
  const p = patchNetwork(n, { keepalive: 25 });
  assert.equal(p.version, 2);
  assert.equal(p.keepalive, 25);
  assert.equal(code(() => patchNetwork(n, { listenPort: 0 })).code, 'INVALID_ARGUMENT');
});
