import t from 'tap';
import assert from 'node:assert/strict';
import { allocate, assertHostIn, poolOf, pastLastHost, poolExhausted } from '../../src/core/ipam.ts';
import { MeshError } from '../../src/core/errors.ts';

t.test('lowest free host address, skipping the network address', async () => {
  assert.equal(allocate('10.10.0.0/24', []), '10.10.0.1');
  assert.equal(allocate('10.10.0.0/24', ['10.10.0.1', '10.10.0.2']), '10.10.0.3');
  assert.equal(allocate('10.10.0.0/24', ['10.10.0.1', '10.10.0.3']), '10.10.0.2');
});

t.test('never the broadcast address; a full range is IP_POOL_EXHAUSTED', async () => {
  // /30 has two hosts: .1 and .2
  assert.equal(allocate('10.0.0.0/30', ['10.0.0.1']), '10.0.0.2');
  assert.throws(() => allocate('10.0.0.0/30', ['10.0.0.1', '10.0.0.2']), (e: unknown) => e instanceof MeshError && e.code === 'IP_POOL_EXHAUSTED' && /10\.0\.0\.0\/30/.test(e.message));
  const used = Array.from({ length: 254 }, (_, i) => `10.1.1.${i + 1}`);
  assert.throws(() => allocate('10.1.1.0/24', used), /no free address/);
  assert.equal(allocate('10.1.1.0/24', used.slice(1)), '10.1.1.1');
});

t.test('allocations across octet boundaries', async () => {
  const used = Array.from({ length: 255 }, (_, i) => `10.2.0.${i + 1}`);
  assert.equal(allocate('10.2.0.0/16', used), '10.2.1.0');
});

t.test('assertHostIn', async () => {
  assert.doesNotThrow(() => assertHostIn('10.10.0.0/24', '10.10.0.200'));
  assert.throws(() => assertHostIn('10.10.0.0/24', '10.10.0.255'), /not a usable host/);
  assert.throws(() => assertHostIn('10.10.0.0/24', '10.10.1.1'), /not a usable host/);
});

t.test('uintOfValid agrees with the validating parser', async () => {
  const { uintOfValid, parseIPv4 } = await import('../../src/core/cidr.ts');
  for (const a of ['0.0.0.0', '10.100.1.255', '255.255.255.255', '172.31.0.2', '192.168.1.1']) assert.equal(uintOfValid(a), parseIPv4(a));
});

t.test('poolOf: the cursor past the highest address in use, the holes below it free', async () => {
  const u = (s: string) => s.split('.').reduce((n, o) => n * 256 + Number(o), 0);
  assert.deepEqual(poolOf('10.10.0.0/24', []), { next: u('10.10.0.1'), free: [] });
  assert.deepEqual(poolOf('10.10.0.0/24', ['10.10.0.1', '10.10.0.2']), { next: u('10.10.0.3'), free: [] });
  assert.deepEqual(poolOf('10.10.0.0/24', ['10.10.0.5', '10.10.0.2']), { next: u('10.10.0.6'), free: [u('10.10.0.1'), u('10.10.0.3'), u('10.10.0.4')] });
  const full = Array.from({ length: 254 }, (_, i) => `10.1.1.${i + 1}`);
  const p = poolOf('10.1.1.0/24', full);
  assert.deepEqual(p, { next: u('10.1.1.255'), free: [] });
  assert.equal(pastLastHost('10.1.1.0/24', p.next), true, 'the broadcast address is past the last host');
  assert.equal(pastLastHost('10.1.1.0/24', u('10.1.1.254')), false);
  assert.equal(poolExhausted('10.1.1.0/24').code, 'IP_POOL_EXHAUSTED');
});
