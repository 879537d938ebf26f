import t from 'tap';
import assert from 'node:assert/strict';
import { parseExpiry } from '../../src/core/duration.ts';
import { assertKeyUsable, assertUses } from '../../src/core/keys.ts';
import { encodeJoinToken, decodeJoinToken } from '../../src/core/join-token.ts';
import { hashSecret, newSecret, secretMatches } from '../../src/core/secret.ts';
import type { AccessKey } from '../../src/core/types.ts';

const now = new Date('2026-11-26T00:00:00Z');

t.test('expiry: durations and ISO dates, never the past', async () => {
  assert.equal(parseExpiry('1h', now).toISOString(), '2026-11-26T01:00:00.000Z');
  assert.equal(parseExpiry('7d', now).toISOString(), '2026-12-03T00:00:00.000Z');
  assert.equal(parseExpiry('30m', now).toISOString(), '2026-11-26T00:30:00.000Z');
  assert.equal(parseExpiry('2027-01-31', now).toISOString(), '2027-01-31T00:00:00.000Z');
  assert.throws(() => parseExpiry('2020-01-01', now), /in the past/);
  assert.throws(() => parseExpiry('tomorrow', now), /neither a duration nor a date/);
  assert.throws(() => parseExpiry('0h', now), /longer than zero/);
});

const key = (k: Partial<AccessKey>): AccessKey => ({ name: 'k', network: 'office', usesRemaining: null, expiresAt: null, revoked: false, createdAt: now.toISOString(), ...k });

t.test('key usability: revoked, expired, used up', async () => {
  assert.doesNotThrow(() => assertKeyUsable(key({}), now));
  assert.doesNotThrow(() => assertKeyUsable(key({ usesRemaining: 1 }), now));
  assert.throws(() => assertKeyUsable(key({ revoked: true }), now), { code: 'KEY_REVOKED' });
  assert.throws(() => assertKeyUsable(key({ expiresAt: '2026-11-25T23:59:59Z' }), now), { code: 'KEY_EXPIRED' });
  assert.throws(() => assertKeyUsable(key({ usesRemaining: 0 }), now), { code: 'KEY_USED_UP' });
  assert.throws(() => assertUses(0), /1 to/);
  assert.throws(() => assertUses(2.5), /whole number/);
});

t.test('secrets: 256-bit, stored hashed, compared in constant time', async () => {
  const s = newSecret();
  assert.equal(Buffer.from(s, 'base64url').length, 32, 'a secret carries 32 random bytes: 256 bits');
  assert.equal(s.length, 43, 'as 43 base64url characters');
  assert.notEqual(newSecret(), s);
  const h = hashSecret(s);
  assert.ok(!h.includes(s));
  assert.ok(secretMatches(s, h));
  assert.ok(!secretMatches(s + 'x', h));
});

t.test('join token: round trip, versioned, URL-safe, checked', async () => {
  const t = { server: '172.31.0.2:50051', network: 'office', keyName: 'k1', secret: newSecret(), caPin: 'sha256:' + 'a'.repeat(64) };
  const enc = encodeJoinToken(t);
  assert.match(enc, /^mc1\.[A-Za-z0-9_-]+$/);
  assert.deepEqual(decodeJoinToken(enc), { ...t, servers: [t.server] });
  assert.throws(() => decodeJoinToken('xyz'), { code: 'TOKEN_INVALID' });
  assert.throws(() => decodeJoinToken(enc.slice(0, 20)), { code: 'TOKEN_INVALID' });
  const noPin = 'mc1.' + Buffer.from(JSON.stringify({ v: 1, s: 'a:1', n: 'o', k: 'k', x: 's', p: 'md5:1' })).toString('base64url');
  assert.throws(() => decodeJoinToken(noPin), /CA pin/);
  const v2 = 'mc1.' + Buffer.from(JSON.stringify({ v: 2 })).toString('base64url');
  assert.throws(() => decodeJoinToken(v2), /version/);
});
