// Issue 9 in the pure core: validation of what comes from outside.
import t from 'tap';
import { newNetwork } from '../../src/core/network.ts';

t.test('low: ranges that cannot work are refused (0/8, 127/8, 169.254/16, 224/4, 240/4)', async (t) => {
  for (const cidr of ['0.0.0.0/8', '0.1.2.0/24', '127.0.0.0/8', '127.10.0.0/24', '169.254.0.0/16', '169.254.10.0/24', '224.0.0.0/8', '239.1.0.0/16', '240.0.0.0/8', '255.255.255.0/24', '0.0.0.0/16']) {
    t.throws(() => newNetwork({ name: 'x', cidr }), { code: 'INVALID_ARGUMENT' }, `${cidr} is refused`);
  }
  for (const cidr of ['10.10.0.0/24', '172.16.0.0/12', '192.168.50.0/24', '100.64.0.0/10', '169.253.0.0/16', '223.255.255.0/24', '126.0.0.0/8', '1.0.0.0/8']) {
    t.equal(newNetwork({ name: 'x', cidr }).cidr, cidr, `${cidr} is accepted`);
  }
});
