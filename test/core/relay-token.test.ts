import t from 'tap';
import { decodeRelayToken, encodeRelayToken, pickRelay } from '../../src/core/relay-token.ts';

const pin = `sha256:${'ab'.repeat(32)}`;
const secret = 'S'.repeat(43);

t.test('a relay token round-trips and refuses what is malformed', async (t) => {
  const tok = encodeRelayToken({ servers: ['10.0.0.2:50051', '[fd00::2]:50051'], caPin: pin, secret });
  t.match(tok, /^mcr1\./);
  t.same(decodeRelayToken(` ${tok}\n`), { servers: ['10.0.0.2:50051', '[fd00::2]:50051'], caPin: pin, secret });
  const body = (o: object) => `mcr1.${Buffer.from(JSON.stringify(o)).toString('base64url')}`;
  const bad: [string, RegExp][] = [
    ['mca1.xyz', /does not start with "mcr1."/],
    [`mcr1.${'x'.repeat(5000)}`, /too long/],
    ['mcr1.%%%', /truncated or corrupted/],
    [body({ v: 2 }), /unsupported token version/],
    [body([]), /unsupported token version/],
    [body({ v: 1, s: '10.0.0.2:50051', p: pin }), /a field is missing/],
    [body({ v: 1, s: '10.0.0.2:50051', p: 'md5:x', x: secret }), /CA pin is malformed/],
    [body({ v: 1, s: '10.0.0.2:50051', p: pin, x: 'short' }), /secret is malformed/],
    [body({ v: 1, s: 'nohostport', p: pin, x: secret }), /not HOST:PORT/],
  ];
  for (const [tok2, why] of bad) t.throws(() => decodeRelayToken(tok2), { code: 'TOKEN_INVALID', message: why }, String(why));
});

t.test('pickRelay: the same relay for a pair whatever the order of the names; a removed relay moves only its own pairs', async (t) => {
  t.equal(pickRelay('a|b', []), null);
  const names = ['r1', 'r2', 'r3'];
  const pairs = Array.from({ length: 300 }, (_, i) => `n${i}|m${i}`);
  const pick = new Map(pairs.map((p) => [p, pickRelay(p, names)!]));
  for (const p of pairs.slice(0, 20)) t.equal(pickRelay(p, [...names].reverse()), pick.get(p));
  const per = names.map((n) => [...pick.values()].filter((x) => x === n).length);
  t.ok(per.every((c) => c > 60), `spread over the relays: ${per}`);
  for (const p of pairs) {
    const now = pickRelay(p, ['r1', 'r3'])!;
    if (pick.get(p) !== 'r2') t.equal(now, pick.get(p), `${p} stays`);
  }
});
