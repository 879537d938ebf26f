// The lab keeps the machine's own configuration out of reach: a process on a lab host that
// writes /etc/hosts writes that host's copy, and agents there default to the hosts file rather
// than the machine's systemd-resolved (shared over D-Bus across namespaces). Before this, agents
// in the gateway and NAT labs (default --host-dns auto, default --hosts-file /etc/hosts) left
// their blocks in the machine's /etc/hosts.
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { createLab, sweepStale, uniquePrefix } from './lab.ts';
import { prereqSkip } from './prereqs.ts';

const STEM = 'li';

t.test('a lab host has its own /etc/hosts and defaults agents to it', { skip: await prereqSkip() }, async (t) => {
  await sweepStale(STEM);
  const before = await readFile('/etc/hosts');
  const lab = await createLab({ prefix: uniquePrefix(STEM), hosts: ['h1', 'h2'] });
  t.teardown(() => lab.destroy());
  await lab.run('h1', ['sh', '-c', 'printf "10.1.2.3\\tonly-in-h1.test\\n" >> /etc/hosts']);
  t.match((await lab.run('h1', ['cat', '/etc/hosts'])).stdout, /only-in-h1\.test/, 'the host sees what it wrote');
  t.match(await readFile(`${lab.dir('h1')}/hosts`, 'utf8'), /only-in-h1\.test/, 'it landed in the lab\'s copy');
  t.notMatch((await lab.run('h2', ['cat', '/etc/hosts'])).stdout, /only-in-h1/, 'another lab host does not see it');
  t.same(await readFile('/etc/hosts'), before, 'the machine\'s /etc/hosts is byte for byte what it was');
  t.equal((await lab.run('h1', ['sh', '-c', 'echo "$MESHCTL_HOST_DNS"'])).stdout.trim(), 'hosts', 'agents on lab hosts leave systemd-resolved alone');
  t.equal((await lab.run('h1', ['env', 'MESHCTL_HOST_DNS=off', 'sh', '-c', 'echo "$MESHCTL_HOST_DNS"'])).stdout.trim(), 'off', 'a test may still pick another mode');
});
