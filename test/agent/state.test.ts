// src/agent/state.ts: per-network state on disk, 0600 files in 0700 directories.
import t from 'tap';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ensureConfigDir, joinedNetworks, listenPortOf, loadState, removeState, saveState, type NetworkState,
} from '../../src/agent/state.ts';
import { keyFile, networksDir, stateFile } from '../../src/agent/paths.ts';
import type { NodeView } from '../../src/core/view.ts';

const state = (network: string, over: Partial<NetworkState> = {}): NetworkState => ({
  network,
  server: '192.0.2.1:50051',
  caPem: '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n',
  caPin: 'sha256:' + '0'.repeat(64),
  nodeId: 'n-1',
  credential: 'n-1.secret',
  interface: `mesh-${network}`,
  listenPort: 0,
  endpoint: '',
  view: null,
  ...over,
});

const mode = async (p: string) => (await stat(p)).mode & 0o777;

t.test('save then load gives the same state; the file is 0600 in 0700 directories, even ones that were open', async (t) => {
  const dir = t.testdir();
  await chmod(dir, 0o755);
  const st = state('office', { listenPort: 51821, endpoint: '192.0.2.9:51821' });
  await saveState(dir, st);
  t.same(await loadState(dir, 'office'), st);
  t.equal(await mode(stateFile(dir, 'office')), 0o600);
  t.equal(await mode(networksDir(dir)), 0o700);
  t.equal(await mode(dir), 0o700, 'the config dir itself is closed to others');
  t.match(await readFile(stateFile(dir, 'office'), 'utf8'), /\n$/, 'ends with a newline');
});

t.test('saving again replaces the state whole', async (t) => {
  const dir = t.testdir();
  await saveState(dir, state('office', { nodeId: 'old' }));
  await saveState(dir, state('office', { nodeId: 'new' }));
  t.equal((await loadState(dir, 'office')).nodeId, 'new');
});

t.test('loading a network never joined is NOT_JOINED, naming the file; a torn file is CONFIG_INVALID', async (t) => {
  const dir = t.testdir();
  await t.rejects(loadState(dir, 'nowhere'), { code: 'NOT_JOINED', message: `this node has not joined network "nowhere" (no ${stateFile(dir, 'nowhere')})` });
  await ensureConfigDir(dir);
  await writeFile(stateFile(dir, 'torn'), '{"network": "torn", "ser');
  await t.rejects(loadState(dir, 'torn'), { code: 'CONFIG_INVALID', hint: 'Leave and join again: meshctl leave -n torn' });
});

t.test('joinedNetworks lists state files by network name, sorted; none without a networks dir', async (t) => {
  const dir = t.testdir();
  t.same(await joinedNetworks(dir), []);
  for (const n of ['zeta', 'alpha', 'mid']) await saveState(dir, state(n));
  await writeFile(keyFile(dir, 'alpha'), 'k\n');
  await mkdir(join(networksDir(dir), 'junk.d'));
  await writeFile(join(networksDir(dir), 'notes.txt'), '');
  await writeFile(join(networksDir(dir), 'Not_A_Label.json'), '{}');
  t.same(await joinedNetworks(dir), ['alpha', 'mid', 'zeta'], 'a file whose name is not a network name is not a network');
});

t.test('removeState deletes the state and the key of that network only, and twice is fine', async (t) => {
  const dir = t.testdir();
  await saveState(dir, state('a'));
  await saveState(dir, state('b'));
  await writeFile(keyFile(dir, 'a'), 'k\n');
  await writeFile(keyFile(dir, 'b'), 'k\n');
  await removeState(dir, 'a');
  await removeState(dir, 'a');
  t.same(await joinedNetworks(dir), ['b']);
  await t.rejects(stat(keyFile(dir, 'a')), { code: 'ENOENT' });
  t.ok(await stat(keyFile(dir, 'b')));
});

t.test('listenPortOf: the port chosen here, else the one the view assigns, else 0', async (t) => {
  const view = (listenPort: number) => ({ self: { listenPort } }) as unknown as NodeView;
  t.equal(listenPortOf(state('x', { listenPort: 51900, view: view(51821) })), 51900, 'chosen here wins');
  t.equal(listenPortOf(state('x', { view: view(51821) })), 51821, 'assigned by the controller');
  t.equal(listenPortOf(state('x')), 0, 'nothing yet');
  t.equal(listenPortOf(state('x', { view: view(51821) }), view(51999)), 51999, 'an explicit (newer) view is used over the cached one');
  t.equal(listenPortOf(state('x', { view: view(51821) }), null), 0, 'an explicit null view');
});
