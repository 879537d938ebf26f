// Issue 9 holes whose proof needs a real controller (gRPC + TLS on loopback) and agents on a
// simulated platform. Each test is named after the hole it closes.
import t from 'tap';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join as pathJoin } from 'node:path';
import { startHarness } from '../helpers/harness.ts';
import { decodeJoinToken, encodeJoinToken } from '../../src/core/join-token.ts';
import { join } from '../../src/agent/node.ts';
import { simHost } from '../platform/wg-sim.ts';

// Servers start slowly on a loaded machine: the file's deadline is the sum of the tests' own.
t.setTimeout(600_000);

t.test('hole 1: a join token naming ../ writes and deletes nothing outside the config directory', async (t) => {
  const h = await startHarness();
  t.teardown(() => h.stopAll());
  await h.admin('POST', '/networks', { name: 'office', cidr: '10.10.0.0/24' });
  const { token } = await h.admin<{ token: string }>('POST', '/networks/office/keys', {});
  const root = await mkdtemp(pathJoin(tmpdir(), 'meshctl-hole1-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const configDir = pathJoin(root, 'a', 'b', 'etc');
  await mkdir(configDir, { recursive: true });
  // The file the attacker aims at: <root>/victim.key, outside the config dir (join overwrote it
  // with a private key, then deleted it when the controller refused the join).
  await writeFile(pathJoin(root, 'victim.key'), 'precious\n');
  // Everything under <root> but the config dir itself, recursively.
  const outside = async () => (await readdir(root, { recursive: true })).filter((f) => !f.startsWith(pathJoin('a', 'b', 'etc') + '/')).sort();
  const before = await outside();
  const good = decodeJoinToken(token);
  for (const network of ['aaaaaaaaaa/../../../../../victim', '../../../../victim', 'office/../../../../../victim', 'Office', 'a b', '']) {
    const evil = encodeJoinToken({ ...good, network });
    const err = await join({ configDir, runner: simHost({ kernel: true }).runner }, { token: evil, name: 'n1' }).then(() => null, (e: unknown) => e);
    t.ok(err, `a token naming network ${JSON.stringify(network)} is refused`);
    t.equal((err as { code?: string } | null)?.code, 'TOKEN_INVALID', `refused as TOKEN_INVALID: ${(err as Error | null)?.message}`);
    t.same(await outside(), before, 'nothing was created or deleted beside the config dir');
    t.equal(await readFile(pathJoin(root, 'victim.key'), 'utf8'), 'precious\n');
  }
  // The same token with its real network name joins (the refusal is about the name alone).
  const ok = await join({ configDir, runner: simHost({ kernel: true }).runner }, { token, name: 'n1' });
  t.equal(ok.network, 'office');
});
