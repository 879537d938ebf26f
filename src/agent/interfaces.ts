// Which WireGuard interface a network gets on this host, and the rule that meshctl only ever
// changes or removes interfaces it created and recorded as its own (in a network's state file).
import { createHash } from 'node:crypto';
import { MeshError } from '../core/errors.ts';
import type { Runner } from '../platform/runner.ts';
import { assertInterfaceName, interfaceExists } from '../platform/wireguard.ts';
import { defaultInterface } from './paths.ts';
import { joinedNetworks, loadState } from './state.ts';

/** Interface name -> the joined network that recorded it as its own. */
export async function ownedInterfaces(configDir: string): Promise<Map<string, string>> {
  const owned = new Map<string, string>();
  for (const n of await joinedNetworks(configDir)) {
    const st = await loadState(configDir, n).catch(() => null);
    if (st) owned.set(st.interface, n);
  }
  return owned;
}

export interface InterfaceChoice {
  interface: string;
  /** Why the name is not the default one (for the join's log), else undefined. */
  note?: string;
}

/** Candidate names for `network` after the default: `mesh-<cut>-<4 hex of the network's hash>`, then numbered. */
export function alternateInterfaces(network: string): string[] {
  const h = createHash('sha256').update(network).digest('hex');
  const out: string[] = [];
  for (let i = 0; i < 8; i++) {
    const tag = h.slice(i * 4, i * 4 + 4);
    out.push(`${defaultInterface(network).slice(0, 15 - tag.length - 1)}-${tag}`);
  }
  return out;
}

/**
 * The interface `network` will use on this host. An explicit `requested` name is refused when
 * another joined network uses it or when it exists and meshctl did not make it (it could be the
 * host's network card). The default name is replaced by another when it is taken either way.
 * Runs before anything is changed.
 */
export async function chooseInterface(runner: Runner, configDir: string, network: string, requested?: string): Promise<InterfaceChoice> {
  const owned = await ownedInterfaces(configDir);
  if (requested !== undefined) {
    assertInterfaceName(requested);
    const other = owned.get(requested);
    if (other !== undefined) {
      throw new MeshError('ALREADY_EXISTS', `interface ${requested} is already used by network "${other}" on this host`, {
        hint: `Pick another name with --interface, or leave the default (${defaultInterface(network)} or a free variant)`,
      });
    }
    if (await interfaceExists(runner, requested)) {
      throw new MeshError('ALREADY_EXISTS', `interface ${requested} already exists on this host and meshctl did not create it; meshctl only changes interfaces it made`, {
        hint: `Pick a name that is not in \`ip link\`, e.g. --interface ${defaultInterface(network)}`,
      });
    }
    return { interface: requested };
  }
  const base = defaultInterface(network);
  assertInterfaceName(base);
  const why = async (name: string): Promise<string | null> => {
    const other = owned.get(name);
    if (other !== undefined) return `network "${other}" uses it`;
    if (await interfaceExists(runner, name)) return 'it already exists and meshctl did not create it';
    return null;
  };
  const taken = await why(base);
  if (taken === null) return { interface: base };
  for (const alt of alternateInterfaces(network)) {
    if ((await why(alt)) === null) return { interface: alt, note: `interface ${base} is taken (${taken}); using ${alt}` };
  }
  throw new MeshError('ALREADY_EXISTS', `no free interface name for network "${network}" (${base} is taken: ${taken})`, {
    hint: 'Name one with --interface',
  });
}
