import t from 'tap';
import { parseLocalAddresses } from '../../src/platform/local-addresses.ts';

const ipJson = JSON.stringify([
  { ifname: 'lo', flags: ['LOOPBACK', 'UP'], link_type: 'loopback', addr_info: [{ family: 'inet', local: '127.0.0.1', scope: 'host' }] },
  { ifname: 'eth0', flags: ['BROADCAST', 'UP', 'LOWER_UP'], link_type: 'ether', addr_info: [{ family: 'inet', local: '192.168.1.10', scope: 'global' }] },
  { ifname: 'mesh-office', flags: ['POINTOPOINT', 'UP'], link_type: 'none', addr_info: [{ family: 'inet', local: '10.10.0.1', scope: 'global' }] },
  { ifname: 'eth1', flags: ['BROADCAST'], link_type: 'ether', addr_info: [{ family: 'inet', local: '10.9.9.9', scope: 'global' }] },
  { ifname: 'eth2', flags: ['UP'], link_type: 'ether', addr_info: [{ family: 'inet', local: '169.254.3.3', scope: 'link' }, { family: 'inet', local: '172.16.0.4', scope: 'global' }] },
]);

t.test('global IPv4 addresses of links that are up, not loopback, not the mesh interfaces', async (t) => {
  t.same(parseLocalAddresses(ipJson, ['mesh-office']), ['192.168.1.10', '172.16.0.4']);
});

t.test('output that is not JSON gives no addresses rather than an error', async (t) => {
  t.same(parseLocalAddresses('Object "addr" is unknown', []), []);
});
