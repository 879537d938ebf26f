// src/core/duration.ts: `--expires` as a duration or an ISO date, always in the future.
import t from 'tap';
import { parseExpiry } from '../../src/core/duration.ts';

const now = new Date('2026-11-26T12:00:00.000Z');
const after = (ms: number) => new Date(now.getTime() + ms).toISOString();

t.test('durations in s, m, h, d and w count from now', async (t) => {
  t.equal(parseExpiry('90s', now).toISOString(), after(90e3));
  t.equal(parseExpiry('30m', now).toISOString(), after(30 * 60e3));
  t.equal(parseExpiry('24h', now).toISOString(), after(24 * 3600e3));
  t.equal(parseExpiry('7d', now).toISOString(), after(7 * 86400e3));
  t.equal(parseExpiry('2w', now).toISOString(), after(14 * 86400e3));
  t.equal(parseExpiry(' 1h ', now).toISOString(), after(3600e3), 'blanks around are ignored');
});

t.test('ISO dates and date-times, with or without a zone', async (t) => {
  t.equal(parseExpiry('2027-01-31', now).toISOString(), '2027-01-31T00:00:00.000Z');
  t.equal(parseExpiry('2026-11-26T13:00:00Z', now).toISOString(), '2026-11-26T13:00:00.000Z');
  t.equal(parseExpiry('2026-11-26T14:30:00+02:00', now).toISOString(), '2026-11-26T12:30:00.000Z');
});

t.test('zero, the past and now itself are refused', async (t) => {
  t.throws(() => parseExpiry('0h', now), { code: 'INVALID_ARGUMENT', message: 'expiry "0h" must be longer than zero' });
  t.throws(() => parseExpiry('2026-11-25', now), { code: 'INVALID_ARGUMENT', message: 'expiry "2026-11-25" is in the past' });
  t.throws(() => parseExpiry(now.toISOString(), now), { message: /is in the past/ }, 'exactly now is not the future');
});

t.test('anything else is neither a duration nor a date', async (t) => {
  for (const bad of ['', '24', 'h', '1y', '-1h', '1.5h', '24 h', 'tomorrow', '26/11/2027']) {
    t.throws(() => parseExpiry(bad, now), { code: 'INVALID_ARGUMENT', message: /is neither a duration nor a date/ }, JSON.stringify(bad));
  }
  t.throws(() => parseExpiry('2027-02-30T99:00', now), { message: /is not a valid date/ }, 'date-shaped but impossible');
});
