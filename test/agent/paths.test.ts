// src/agent/paths.ts: where the agent keeps its per-network state.
import t from 'tap';
import { DEFAULT_CONFIG_DIR, defaultInterface, keyFile, networksDir, stateFile } from '../../src/agent/paths.ts';

t.test('state and key files live side by side under <config-dir>/networks', async (t) => {
  t.equal(DEFAULT_CONFIG_DIR, '/etc/meshctl');
  t.equal(networksDir('/etc/meshctl'), '/etc/meshctl/networks');
  t.equal(stateFile('/etc/meshctl', 'office'), '/etc/meshctl/networks/office.json');
  t.equal(keyFile('/etc/meshctl', 'office'), '/etc/meshctl/networks/office.key');
  t.equal(stateFile('/tmp/x/', 'lab'), '/tmp/x/networks/lab.json', 'a trailing slash is normalised');
});

t.test("the default interface is mesh-<network>, cut to the kernel's 15 characters", async (t) => {
  t.equal(defaultInterface('office'), 'mesh-office');
  t.equal(defaultInterface('abcdefghij'), 'mesh-abcdefghij', 'exactly 15 is kept');
  t.equal(defaultInterface('abcdefghijk'), 'mesh-abcdefghij', '16 is cut to 15');
  t.equal(defaultInterface('a-very-long-network-name').length, 15);
});

t.test('a network name that is not a DNS label never becomes a path (nothing reaches outside networks/)', async (t) => {
  for (const bad of ['../etc', 'a/b', '..', '', 'UPPER', 'x'.repeat(64)]) {
    t.throws(() => stateFile('/etc/meshctl', bad), { code: 'INVALID_ARGUMENT' }, `state ${JSON.stringify(bad)}`);
    t.throws(() => keyFile('/etc/meshctl', bad), { code: 'INVALID_ARGUMENT' }, `key ${JSON.stringify(bad)}`);
  }
});
