// Join tokens that name several controllers (issue 13): every address travels, in order; a
// token naming one reads as before.
import t from 'tap';
import { decodeJoinToken, encodeJoinToken } from '../../src/core/join-token.ts';
import { newSecret } from '../../src/core/secret.ts';

const base = { network: 'office', keyName: 'k1', secret: newSecret(), caPin: 'sha256:' + 'b'.repeat(64) };

t.test('several controllers round-trip in order; the first is `server`', async (t) => {
  const servers = ['172.31.0.3:50051', '172.31.0.2:50051', 'ctl.example.org:7000'];
  const dec = decodeJoinToken(encodeJoinToken({ ...base, server: servers[0]!, servers }));
  t.same(dec.servers, servers);
  t.equal(dec.server, '172.31.0.3:50051');
});

t.test('a token with one controller decodes to a list of one, and encodes as before', async (t) => {
  const one = encodeJoinToken({ ...base, server: '10.0.0.1:50051' });
  t.same(decodeJoinToken(one).servers, ['10.0.0.1:50051']);
  t.equal(one, encodeJoinToken({ ...base, server: '10.0.0.1:50051', servers: ['10.0.0.1:50051'] }));
});

t.test('an empty address in the list is refused', async (t) => {
  const bad = 'mc1.' + Buffer.from(JSON.stringify({ v: 1, s: 'a:1,,b:2', n: 'o', k: 'k', x: 's', p: base.caPin })).toString('base64url');
  t.throws(() => decodeJoinToken(bad), { code: 'TOKEN_INVALID' });
});
