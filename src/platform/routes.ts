// Routes through a mesh interface to the ranges behind egress gateways: an idempotent
// desired-state setter over the injected runner. It owns the `proto static` routes on the mesh
// interface (meshctl's own interface); the kernel's route for the mesh range is left alone.
import { canonicalCidr } from '../core/wg-diff.ts';
import { assertInterfaceName } from './wireguard.ts';
import type { Runner } from './runner.ts';

/** The `proto static` routes on `iface`, canonical ("192.168.7.0/24", "10.9.9.9/32"). */
export async function readRoutes(runner: Runner, iface: string): Promise<string[]> {
  assertInterfaceName(iface);
  const r = await runner.run(['ip', '-j', '-4', 'route', 'show', 'dev', iface, 'proto', 'static']);
  const list = r.stdout.trim() ? (JSON.parse(r.stdout) as { dst: string }[]) : [];
  return list.map((x) => canonicalCidr(x.dst)).filter((d) => d !== 'default');
}

/** Makes the routes through `iface` exactly `ranges`; returns the changes made, described. */
export async function setRoutes(runner: Runner, iface: string, ranges: readonly string[]): Promise<string[]> {
  const want = new Set(ranges.map(canonicalCidr));
  const have = new Set(await readRoutes(runner, iface));
  const out: string[] = [];
  for (const r of have) {
    if (want.has(r)) continue;
    await runner.run(['ip', 'route', 'del', r, 'dev', iface, 'proto', 'static']);
    out.push(`${iface}: remove route ${r}`);
  }
  for (const r of want) {
    if (have.has(r)) continue;
    await runner.run(['ip', 'route', 'replace', r, 'dev', iface, 'proto', 'static']);
    out.push(`${iface}: add route ${r}`);
  }
  return out;
}
