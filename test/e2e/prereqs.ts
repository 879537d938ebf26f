// What the e2e lab needs from the machine. Missing pieces skip the e2e tests locally, but fail
// them under CI=true: CI must never go green by testing nothing.
import { access } from 'node:fs/promises';
import { ExecaRunner } from '../../src/platform/runner.ts';

const INSTALL = 'apt-get install -y wireguard-go wireguard-tools iproute2 iputils-ping dnsutils';

/** The prerequisites this machine lacks, each with how to get it; [] when the lab can run. */
export async function missingPrereqs(): Promise<string[]> {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('root (run the e2e tests as root)');
  const runner = new ExecaRunner({ timeoutMs: 10_000 });
  const works = async (argv: string[]) => runner.run(argv).then(() => true, () => false);
  if (!(await works(['ip', 'netns', 'list']))) missing.push('`ip netns` (apt-get install -y iproute2)');
  if (!(await works(['unshare', '--version']))) missing.push('unshare (apt-get install -y util-linux)');
  if (!(await works(['wg', '--version']))) missing.push('wg (apt-get install -y wireguard-tools)');
  if (!(await works(['wireguard-go', '--version']))) missing.push('wireguard-go (apt-get install -y wireguard-go)');
  if (!(await works(['ping', '-V']))) missing.push('ping (apt-get install -y iputils-ping)');
  if (!(await access('/dev/net/tun').then(() => true, () => false))) missing.push('/dev/net/tun (load the tun module)');
  return missing;
}

/** For `test(name, { skip: await prereqSkip() }, …)`: false when all is there, else a reason; throws under CI=true. */
export async function prereqSkip(): Promise<string | false> {
  const missing = await missingPrereqs();
  if (missing.length === 0) return false;
  const reason = `e2e lab prerequisites missing: ${missing.join('; ')}. Try: ${INSTALL}`;
  if (process.env.CI === 'true') throw new Error(reason);
  return reason;
}

/** prereqSkip, plus the firewall and conntrack tools the NAT routers of the lab need. */
export async function natPrereqs(): Promise<string | false> {
  const base = await prereqSkip();
  if (base) return base;
  const r = new ExecaRunner({ timeoutMs: 10_000 });
  const missing: string[] = [];
  for (const tool of ['iptables', 'conntrack']) if (!(await r.run([tool, '--version']).then(() => true, () => false))) missing.push(tool);
  if (missing.length === 0) return false;
  const why = `NAT lab needs ${missing.join(', ')} (apt-get install -y iptables conntrack)`;
  if (process.env.CI === 'true') throw new Error(why);
  return why;
}
