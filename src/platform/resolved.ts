// systemd-resolved, per link: the mesh interface's DNS server is the node's own responder and its
// routing-only domain `~<domain>`, so only mesh names go there. A desired-state setter over the
// runner: setting the same again changes nothing; `revert` puts the link back as it was.
import type { Runner } from './runner.ts';
import { CommandError } from './runner.ts';

/** Whether systemd-resolved runs on this host (a missing systemctl counts as no). */
export async function resolvedRunning(runner: Runner): Promise<boolean> {
  try {
    return (await runner.run(['systemctl', 'is-active', '--quiet', 'systemd-resolved'], { allowFail: true })).exitCode === 0;
  } catch (err) {
    if (err instanceof CommandError && err.notFound) return false;
    throw err;
  }
}

/** Points link `iface` at `server` for `~domain` (and for nothing else). */
export async function setLinkDns(runner: Runner, iface: string, server: string, domain: string): Promise<void> {
  await runner.run(['resolvectl', 'dns', iface, server]);
  await runner.run(['resolvectl', 'domain', iface, `~${domain}`]);
}

/** Drops what setLinkDns set on `iface`. A link that is already gone is not an error. */
export async function revertLinkDns(runner: Runner, iface: string): Promise<void> {
  await runner.run(['resolvectl', 'revert', iface], { allowFail: true });
}
