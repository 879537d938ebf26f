// Issue 8 item 11: `meshctl node list` (singular) gets a suggestion, through the real CLI.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { suggestCommand } from '../../src/cli/suggest.ts';
import { COMMANDS } from '../../src/commands/index.ts';

const BIN = fileURLToPath(new URL('../../bin/run.js', import.meta.url));
const ids = Object.keys(COMMANDS);

t.test('suggestCommand: the other number of a topic, else a near command, else nothing', async (t) => {
  t.equal(suggestCommand('node:list', ids), 'nodes:list');
  t.equal(suggestCommand('key:create', ids), 'keys:create');
  t.equal(suggestCommand('networks:list', ids), 'network:list');
  t.equal(suggestCommand('dns:lst', ids), 'dns:list');
  t.equal(suggestCommand('frobnicate', ids), undefined);
});

t.test('meshctl node list: exit 2 and "did you mean meshctl nodes list?"', async (t) => {
  const r = spawnSync(process.execPath, [BIN, 'node', 'list'], { encoding: 'utf8', env: { ...process.env, MESHCTL_DATA_DIR: '/nonexistent' } });
  t.equal(r.status, 2);
  t.match(r.stderr, /^Error \(USAGE\): unknown command "meshctl node list"\nTry this: Did you mean: meshctl nodes list\?/);
  const j = spawnSync(process.execPath, [BIN, 'node', 'list', '--json'], { encoding: 'utf8' });
  t.equal(j.status, 2);
  t.match(JSON.parse(j.stdout).error, { code: 'USAGE', hint: 'Did you mean: meshctl nodes list?' });
});
