import t from 'tap';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveServerConfig } from '../../src/controller/config.ts';

const made: string[] = [];
t.teardown(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});
const dir = () => {
  const d = mkdtempSync(join(tmpdir(), 'meshctl-cfg-'));
  made.push(d);
  return d;
};

t.test('defaults: 0.0.0.0:8081 and 0.0.0.0:50051', async () => {
  const c = resolveServerConfig({ dataDir: dir(), publicHost: '10.0.0.1' });
  assert.deepEqual(c.api, { host: '0.0.0.0', port: 8081 });
  assert.deepEqual(c.grpc, { host: '0.0.0.0', port: 50051 });
  assert.equal(c.publicHost, '10.0.0.1');
  assert.equal(c.configFile, null);
});

t.test('the config file in the data dir is read; flags (and env, merged by oclif) win over it', async () => {
  const d = dir();
  writeFileSync(join(d, 'server.yaml'), 'apiAddr: 127.0.0.1:9000\ngrpcAddr: 127.0.0.1:9001\npublicHost: mesh.example.org\n');
  const fromFile = resolveServerConfig({ dataDir: d });
  assert.deepEqual(fromFile.api, { host: '127.0.0.1', port: 9000 });
  assert.equal(fromFile.publicHost, 'mesh.example.org');
  assert.equal(fromFile.configFile, join(d, 'server.yaml'));
  const flagged = resolveServerConfig({ dataDir: d, apiAddr: '127.0.0.1:9100', noGrpc: true });
  assert.deepEqual(flagged.api, { host: '127.0.0.1', port: 9100 });
  assert.equal(flagged.grpc, null);
  assert.deepEqual(flagged.publicHost, 'mesh.example.org');
});

t.test('bad config: unknown keys, wrong types, bad addresses, a missing --config file', async () => {
  const d = dir();
  writeFileSync(join(d, 'server.yaml'), 'apiAdr: 1.2.3.4:1\n');
  assert.throws(() => resolveServerConfig({ dataDir: d }), { code: 'CONFIG_INVALID', message: /unknown key: apiAdr/ });
  writeFileSync(join(d, 'server.yaml'), 'noApi: "yes"\n');
  assert.throws(() => resolveServerConfig({ dataDir: d }), /must be a boolean/);
  writeFileSync(join(d, 'server.yaml'), '');
  assert.throws(() => resolveServerConfig({ dataDir: d, apiAddr: 'localhost' }), /not HOST:PORT/);
  assert.throws(() => resolveServerConfig({ dataDir: d, apiAddr: '127.0.0.1:70000' }), /out of range/);
  assert.throws(() => resolveServerConfig({ dataDir: d, config: join(d, 'nope.yaml') }), /does not exist/);
});

t.test('node: the config key or the flag makes the controller join its networks as a node too', async () => {
  const d = dir();
  assert.equal(resolveServerConfig({ dataDir: d, publicHost: '10.0.0.1' }).node, undefined);
  writeFileSync(join(d, 'server.yaml'), 'node: true\n');
  assert.equal(resolveServerConfig({ dataDir: d, publicHost: '10.0.0.1' }).node, true);
  writeFileSync(join(d, 'server.yaml'), 'node: "yes"\n');
  assert.throws(() => resolveServerConfig({ dataDir: d }), /"node" must be a boolean/);
  writeFileSync(join(d, 'server.yaml'), '');
  assert.equal(resolveServerConfig({ dataDir: d, publicHost: '10.0.0.1', node: true }).node, true);
});
