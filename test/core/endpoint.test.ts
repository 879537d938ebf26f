// src/core/endpoint.ts: a node's stated endpoint, else the address the controller saw it come from.
import t from 'tap';
import { observedEndpoint, peerHost, statedEndpoint } from '../../src/core/endpoint.ts';

t.test('a stated endpoint gets the listen port unless it names one', async (t) => {
  t.equal(statedEndpoint('203.0.113.7', 51821), '203.0.113.7:51821');
  t.equal(statedEndpoint('203.0.113.7:4000', 51821), '203.0.113.7:4000');
  t.equal(statedEndpoint('vpn.example.org', 51820), 'vpn.example.org:51820');
  t.equal(statedEndpoint('[2001:db8::7]', 51820), '[2001:db8::7]:51820');
});

t.test('a stated endpoint host is a name or an address, nothing else', async (t) => {
  t.throws(() => statedEndpoint('host_name', 51820), { code: 'INVALID_ARGUMENT', message: 'endpoint host "host_name" is not an IP address or a DNS name' });
  t.throws(() => statedEndpoint('-lead.example.org', 51820), { code: 'INVALID_ARGUMENT' }, 'no hyphen at a label edge');
  t.throws(() => statedEndpoint('10.0.0.300', 51820), { code: 'INVALID_ARGUMENT' }, 'a malformed IPv4 address is not a name');
  t.throws(() => statedEndpoint('a'.repeat(254), 51820), { code: 'INVALID_ARGUMENT', message: /…" is not/ }, 'over 253 characters, quoted cut short');
  t.throws(() => statedEndpoint('[a b]:1', 51820), { code: 'INVALID_ARGUMENT' });
  t.throws(() => statedEndpoint('h:0', 51820), { code: 'INVALID_ARGUMENT', message: /out of range/ });
});

t.test("observed: grpc-js peer strings, the node's listen port, v4-mapped v6 unwrapped", async (t) => {
  t.equal(observedEndpoint('192.0.2.5:40000', 51821), '192.0.2.5:51821', 'the source port is not the WireGuard port');
  t.equal(observedEndpoint('ipv4:192.0.2.5:40000', 51821), '192.0.2.5:51821');
  t.equal(observedEndpoint('[::ffff:192.0.2.5]:40000', 51821), '192.0.2.5:51821');
  t.equal(observedEndpoint('ipv6:[2001:db8::5]:40000', 51821), '[2001:db8::5]:51821');
  t.equal(observedEndpoint('[::1]:1', 7), '[::1]:7');
});

t.test('observed: anything that is not an address and port is null', async (t) => {
  for (const peer of ['', 'unix:/run/meshctl.sock', 'localhost:40000', '192.0.2.5', '[2001:db8::5]', '999.1.1.1:5']) {
    t.equal(observedEndpoint(peer, 51821), null, JSON.stringify(peer));
  }
});

t.test('peerHost: unbracketed IPv6 from dual-stack listeners, lower-cased; only v4-mapped addresses unwrap', async (t) => {
  t.equal(peerHost('2001:DB8::5:40000'), '2001:db8::5');
  t.equal(peerHost('::1:5678'), '::1');
  t.equal(peerHost('[::FFFF:192.0.2.5]:1'), '192.0.2.5');
  t.equal(peerHost('[::ffff:c000:205]:1'), '::ffff:c000:205', 'a mapped address written in hex stays as it is');
  t.equal(peerHost('ipv4:192.0.2.5:40000'), '192.0.2.5');
  t.equal(peerHost('localhost:1'), null);
});
