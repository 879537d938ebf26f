// The firewall adapter: forwarding and NAT for a gateway's mesh interface, an idempotent
// desired-state setter over the injected runner. nftables where `nft` is installed, else
// iptables. It owns only its own rules, named after the interface: the nft table
// `ip meshctl_<iface>`, or the iptables chains MESHCTL-F-<iface> (filter, jumped to from FORWARD)
// and MESHCTL-N-<iface> (nat, from POSTROUTING). Each rule set carries a fingerprint of the spec in
// a rule comment, so a second call with the same spec reads and changes nothing.
import { createHash } from 'node:crypto';
import type { FirewallSpec } from '../core/gateway.ts';
import { assertInterfaceName } from './wireguard.ts';
import { CommandError, type Runner } from './runner.ts';

export type FirewallBackend = 'nft' | 'iptables';
export type { FirewallSpec } from '../core/gateway.ts';

const detected = new WeakMap<Runner, FirewallBackend>();

/** nftables when `nft` runs here, else iptables (asked once per runner). */
export async function detectBackend(runner: Runner): Promise<FirewallBackend> {
  const known = detected.get(runner);
  if (known) return known;
  const be = await probeBackend(runner);
  detected.set(runner, be);
  return be;
}

async function probeBackend(runner: Runner): Promise<FirewallBackend> {
  try {
    const r = await runner.run(['nft', '--version'], { allowFail: true });
    return r.exitCode === 0 ? 'nft' : 'iptables';
  } catch {
    return 'iptables'; // nft is not installed
  }
}

/** A short fingerprint of the spec, carried in a rule comment. */
export const fingerprint = (spec: FirewallSpec): string =>
  createHash('sha256').update(JSON.stringify([spec.interface, spec.meshCidr, spec.natRanges, spec.keepRanges, spec.fullTunnelSources])).digest('hex').slice(0, 12);

export const nftTable = (iface: string) => `meshctl_${iface.replace(/[^A-Za-z0-9_]/g, '_')}`;
export const iptChains = (iface: string) => ({ filter: `MESHCTL-F-${iface}`, nat: `MESHCTL-N-${iface}` });

/** The nft script that replaces our table with `spec`'s rules in one transaction. */
export function nftScript(spec: FirewallSpec): string {
  const t = nftTable(spec.interface);
  const i = JSON.stringify(spec.interface);
  const nat = [
    ...spec.natRanges.map((r) => `ip saddr ${spec.meshCidr} ip daddr ${r} masquerade`),
    ...(spec.fullTunnelSources.length ? [
      ...spec.keepRanges.map((r) => `ip daddr ${r} accept`),
      ...spec.fullTunnelSources.map((a) => `ip saddr ${a} oifname != ${i} masquerade`),
    ] : []),
  ];
  return [
    `table ip ${t}`,
    `delete table ip ${t}`,
    `table ip ${t} {`,
    '  chain forward {',
    '    type filter hook forward priority filter; policy accept;',
    `    iifname ${i} accept comment "meshctl:${fingerprint(spec)}"`,
    `    oifname ${i} accept`,
    '  }',
    ...(nat.length ? ['  chain postrouting {', '    type nat hook postrouting priority srcnat; policy accept;', ...nat.map((l) => `    ${l}`), '  }'] : []),
    '}',
    '',
  ].join('\n');
}

/** The iptables rules (argv after `iptables -w`) of each of our chains for `spec`. */
export function iptablesRules(spec: FirewallSpec): { filter: string[][]; nat: string[][] } {
  const { filter: F, nat: N } = iptChains(spec.interface);
  const tag = ['-m', 'comment', '--comment', `meshctl:${fingerprint(spec)}`];
  const i = spec.interface;
  const nat: string[][] = [
    ...spec.natRanges.map((r) => ['-s', spec.meshCidr, '-d', r, '-j', 'MASQUERADE']),
    ...(spec.fullTunnelSources.length ? [
      ...spec.keepRanges.map((r) => ['-d', r, '-j', 'RETURN']),
      ...spec.fullTunnelSources.map((a) => ['-s', a, '!', '-o', i, '-j', 'MASQUERADE']),
    ] : []),
  ];
  if (nat[0]) nat[0] = [...nat[0].slice(0, -2), ...tag, ...nat[0].slice(-2)];
  return {
    filter: [['-t', 'filter', '-A', F, '-i', i, ...tag, '-j', 'ACCEPT'], ['-t', 'filter', '-A', F, '-o', i, '-j', 'ACCEPT']],
    nat: nat.map((r) => ['-t', 'nat', '-A', N, ...r]),
  };
}

const describe = (iface: string, spec: FirewallSpec | null, backend: FirewallBackend): string => {
  if (!spec) return `${iface}: firewall (${backend}): removed our forwarding and NAT rules`;
  const what = ['forward', ...spec.natRanges.map((r) => `nat ${r}`), ...spec.fullTunnelSources.map((a) => `nat full tunnel ${a}`)];
  return `${iface}: firewall (${backend}): ${what.join(', ')}`;
};

/** Makes the interface's forwarding and NAT match `spec` (null: none of ours); turns IPv4
 * forwarding on for a gateway. Returns the changes made, described; [] when already in step. */
export async function setFirewall(runner: Runner, iface: string, spec: FirewallSpec | null, backend?: FirewallBackend): Promise<string[]> {
  assertInterfaceName(iface);
  const be = backend ?? (await detectBackend(runner));
  const out: string[] = [];
  if (spec) {
    const fwd = await runner.run(['sysctl', '-n', 'net.ipv4.ip_forward']);
    if (fwd.stdout.trim() !== '1') {
      await runner.run(['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
      out.push(`${iface}: turned IPv4 forwarding on`);
    }
  }
  let changed: boolean;
  try {
    changed = be === 'nft' ? await setNft(runner, iface, spec) : await setIptables(runner, iface, spec);
  } catch (e) {
    // No firewall program at all: a node that is no gateway has nothing of ours to remove.
    if (!spec && e instanceof CommandError && e.notFound) return out;
    throw e;
  }
  if (changed) out.push(describe(iface, spec, be));
  return out;
}

/** Our nft table's fingerprint; null when the table is absent, '' when it has none. */
async function nftCurrent(runner: Runner, iface: string): Promise<string | null> {
  const r = await runner.run(['nft', 'list', 'table', 'ip', nftTable(iface)], { allowFail: true });
  if (r.exitCode !== 0 || !r.stdout.includes(`table ip ${nftTable(iface)}`)) return null;
  return /comment "meshctl:([0-9a-f]+)"/.exec(r.stdout)?.[1] ?? '';
}

async function setNft(runner: Runner, iface: string, spec: FirewallSpec | null): Promise<boolean> {
  const have = await nftCurrent(runner, iface);
  if (!spec) {
    if (have === null) return false;
    await runner.run(['nft', 'delete', 'table', 'ip', nftTable(iface)]);
    return true;
  }
  if (have === fingerprint(spec)) return false;
  await runner.run(['nft', '-f', '-'], { input: nftScript(spec) });
  return true;
}

const ipt = (runner: Runner, args: string[], allowFail = false) => runner.run(['iptables', '-w', ...args], { allowFail });

/** The fingerprint in one of our chains; null when the chain is absent. */
async function iptCurrent(runner: Runner, table: string, chain: string): Promise<string | null> {
  const r = await ipt(runner, ['-t', table, '-S', chain], true);
  if (r.exitCode !== 0 || !r.stdout.includes(`-N ${chain}`)) return null;
  return /meshctl:([0-9a-f]+)/.exec(r.stdout)?.[1] ?? '';
}

async function iptRemoveChain(runner: Runner, table: string, hook: string, chain: string): Promise<void> {
  while ((await ipt(runner, ['-t', table, '-D', hook, '-j', chain], true)).exitCode === 0) { /* every jump of ours */ }
  await ipt(runner, ['-t', table, '-F', chain], true);
  await ipt(runner, ['-t', table, '-X', chain], true);
}

async function iptFillChain(runner: Runner, table: string, hook: string, chain: string, rules: string[][]): Promise<void> {
  await ipt(runner, ['-t', table, '-N', chain], true); // exists already: fine
  await ipt(runner, ['-t', table, '-F', chain]);
  for (const r of rules) await ipt(runner, r);
  if ((await ipt(runner, ['-t', table, '-C', hook, '-j', chain], true)).exitCode !== 0) await ipt(runner, ['-t', table, '-I', hook, '1', '-j', chain]);
}

async function setIptables(runner: Runner, iface: string, spec: FirewallSpec | null): Promise<boolean> {
  const { filter: F, nat: N } = iptChains(iface);
  const [haveF, haveN] = [await iptCurrent(runner, 'filter', F), await iptCurrent(runner, 'nat', N)];
  if (!spec) {
    if (haveF === null && haveN === null) return false;
    await iptRemoveChain(runner, 'filter', 'FORWARD', F);
    await iptRemoveChain(runner, 'nat', 'POSTROUTING', N);
    return true;
  }
  const fp = fingerprint(spec);
  const rules = iptablesRules(spec);
  const natOk = rules.nat.length ? haveN === fp : haveN === null;
  if (haveF === fp && natOk) return false;
  await iptFillChain(runner, 'filter', 'FORWARD', F, rules.filter);
  if (rules.nat.length) await iptFillChain(runner, 'nat', 'POSTROUTING', N, rules.nat);
  else if (haveN !== null) await iptRemoveChain(runner, 'nat', 'POSTROUTING', N);
  return true;
}
