// The node API listens with a backlog for a restart herd (thousands of agents connecting at
// once), not Node's default of 511: read back from the kernel (`ss`), as the listening socket's
// Send-Q.
import t from 'tap';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { startTestController } from '../helpers/controller.ts';
import { LISTEN_BACKLOG } from '../../src/controller/node-api/grpc-server.ts';

t.test('the node API\'s listening socket has the herd backlog', async (t) => {
  const tc = await startTestController({ grpc: true });
  t.teardown(() => tc.stop());
  const port = tc.ctl.grpcPort!;
  const somaxconn = Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8'));
  const line = execFileSync('ss', ['-ltnH', `sport = :${port}`], { encoding: 'utf8' }).trim();
  // State Recv-Q Send-Q Local Peer: for a listener, Send-Q is its backlog
  const backlog = Number(line.split(/\s+/)[2]);
  assert.equal(backlog, Math.min(LISTEN_BACKLOG, somaxconn), `ss: ${line}`);
  assert.ok(backlog > 511, `backlog ${backlog} is not above Node's default`);
});
