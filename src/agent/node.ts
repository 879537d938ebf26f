// The agent's operations on one node: join, check in, leave, status. Each returns a typed
// result that the commands print whole under --json.
import { hostname } from 'node:os';
import { MeshError } from '../core/errors.ts';
import { decodeJoinToken } from '../core/join-token.ts';
import { assertDnsLabel, assertPort, suggestLabel } from '../core/network.ts';
import { statedEndpoint } from '../core/endpoint.ts';
import { viewProblem, type NodeView } from '../core/view.ts';
import type { Runner } from '../platform/runner.ts';
import { readActual, removeWireGuardInterface, assertInterfaceName } from '../platform/wireguard.ts';
import { chooseInterface } from './interfaces.ts';
import { isRemoval, onNetworkTeardown, runTeardownHooks, teardownNetwork } from './teardown.ts';
import { fetchPinnedCa } from '../net/pinned-ca.ts';
import { firstAnswering, isUnreachable, newControllerList, serversOf } from './failover.ts';
import { NodeClient, type CheckInRequest } from './client.ts';
import { ensureConfigDir, joinedNetworks, listenPortOf, loadState, removeState, saveState, type NetworkState } from './state.ts';
import { keyFile, leavingFile, stateFile } from './paths.ts';
import { keyFileOrNew } from './wg-keys.ts';
import { reconcile, dryRun as planChanges, wgConfigOf } from './reconcile.ts';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { udpPortFree } from '../platform/udp-port.ts';
import { localAddresses } from '../platform/local-addresses.ts';
import { pathOf, staticEndpoints } from './traversal.ts';
import { probeOnce } from './probe.ts';
import type { PathUpdate } from '../core/change.ts';
import { offlineDnsInfo, undoHostDns, type DnsHooks, type DnsInfo, type HostDnsMode } from './dns/manager.ts';
import { egressRoutesOf, firewallSpecOf } from '../core/gateway.ts';
import { setRoutes } from '../platform/routes.ts';
import { setFirewall } from '../platform/firewall.ts';

// The host's use of a network's names goes with the network (leave, a deleted node or network).
// Only what the environment names: an environment without a hosts file or host-DNS mode (tests,
// embedders) never reaches for /etc/hosts or resolvectl.
onNetworkTeardown('dns', async (env, st) => {
  if (env.dns) await env.dns.remove(st.network, st.interface);
  else if (env.hostsFile !== undefined || env.hostDns !== undefined) await undoHostDns(env.runner, st.network, st.interface, env.hostsFile ?? null, env.hostDns ?? 'auto');
});

// A network that goes from this host (left, or removed by the controller) takes its gateway's
// forwarding and NAT rules with it; its routes go with its interface.
onNetworkTeardown('gateway firewall rules', async (env, st) => {
  await setFirewall(env.runner, st.interface, null);
});

export interface AgentEnv {
  configDir: string;
  runner: Runner;
  log?: (msg: string) => void;
  /** The node's DNS (responder and host integration); absent: names are left alone. */
  dns?: DnsHooks;
  /** Where the marked block of names goes (`--hosts-file`); default /etc/hosts. */
  hostsFile?: string;
  /** How the host is made to use the names (`--host-dns`). */
  hostDns?: HostDnsMode;
  /** Sends a packet through the tunnel to a peer's mesh address (NAT traversal); absent: none is
   * sent (tests with a fake platform must send nothing into the real network). */
  nudge?: (address: string) => Promise<void>;
}

export interface JoinOptions {
  token: string;
  name?: string;
  interface?: string;
  port?: number;
  endpoint?: string;
}

export interface JoinResult {
  network: string;
  name: string;
  address: string;
  interface: string;
  status: 'pending' | 'joined';
  peers: number;
}

/** Joins the network the token names and brings the interface up. */
/** Wait before a join that got no answer is sent once more. */
export const JOIN_RETRY_DELAY_MS = 1000;

export async function join(env: AgentEnv, opts: JoinOptions): Promise<JoinResult> {
  const token = decodeJoinToken(opts.token);
  const name = opts.name ?? (suggestLabel(hostname().split('.')[0] ?? '') || 'node');
  assertDnsLabel(name, 'node name');
  if (opts.interface !== undefined) assertInterfaceName(opts.interface);
  if (opts.port !== undefined) assertPort(opts.port);
  // Checked here for its form; sent as given, so that a bare HOST takes whatever listen port the
  // node ends up with (the controller adds it).
  const endpoint = opts.endpoint ? opts.endpoint.trim() : '';
  if (endpoint) statedEndpoint(endpoint, 1);
  if (existsSync(stateFile(env.configDir, token.network))) {
    throw new MeshError('ALREADY_EXISTS', `this node has already joined network "${token.network}"`, {
      hint: `Leave it first (meshctl leave -n ${token.network}), or use another --config-dir`,
    });
  }
  // Before anything changes: an interface meshctl did not make (the host's network card) or one
  // another network uses is never taken over.
  const chosen = await chooseInterface(env.runner, env.configDir, token.network, opts.interface);
  const iface = chosen.interface;
  if (chosen.note) env.log?.(`${token.network}: ${chosen.note}`);
  // Every controller of a site presents the same CA: the first that answers is pinned.
  const { server: first, result: caPem } = await firstAnswering(token.servers, (s) => fetchPinnedCa(s, token.caPin));
  await ensureConfigDir(env.configDir);
  const keyPath = keyFile(env.configDir, token.network);
  // A key left by a join that did not finish (no state file: checked above) is used again: if the
  // controller made the node and only its reply was lost, joining with the same key and token
  // gets that node back instead of a refusal (a spent key) or a second node.
  const { publicKey, reused } = await keyFileOrNew(keyPath);
  if (reused) env.log?.(`${token.network}: joining again with the key of a join that did not finish`);
  let client: NodeClient | undefined;
  try {
    let reply, server: string;
    try {
      const lan = await localAddresses(env.runner, [iface]);
      const attempt = () => firstAnswering(token.servers, async (s) => {
        client?.close();
        client = new NodeClient(s, caPem);
        return client.join({ network: token.network, keyName: token.keyName, keySecret: token.secret, name, publicKey, listenPort: opts.port ?? 0, endpoint, localAddresses: lan });
      }, first);
      try {
        ({ server, result: reply } = await attempt());
      } catch (err) {
        if (!isUnreachable(err)) throw err;
        // The request may have arrived and only the reply been lost: the same join again is safe.
        await new Promise((r) => setTimeout(r, JOIN_RETRY_DELAY_MS));
        ({ server, result: reply } = await attempt());
      }
    } catch (err) {
      // Nothing half-written; but after no answer the key stays, for the next try (see above).
      if (isUnreachable(err)) await rm(stateFile(env.configDir, token.network), { force: true });
      else await removeState(env.configDir, token.network);
      throw err;
    }
    const joined = client!;
    let st: NetworkState = { network: token.network, server, ...(token.servers.length > 1 ? { servers: token.servers } : {}), caPem, caPin: token.caPin, nodeId: reply.nodeId, credential: reply.credential, interface: iface, listenPort: opts.port ?? 0, endpoint, view: null, paths: { paths: reply.paths, tag: reply.pathsTag } };
    try {
      let view = reply.view;
      if (opts.port === undefined) {
        // The network's default port may be held here already (another network's interface).
        const port = await freeListenPort(env, view.self.listenPort);
        if (port !== view.self.listenPort) {
          st = { ...st, listenPort: port };
          const r = await joined.checkIn({ listenPort: port, endpoint, knownVersion: 0, handshakes: [] });
          if (r.view) view = r.view;
          env.log?.(`${token.network}: port ${reply.view.self.listenPort} is taken on this host; listening on ${port}`);
        }
      }
      return await adopt(env, st, view);
    } catch (err) {
      // Undo: the controller forgets the node, and nothing is left here half-joined.
      await joined.leave().catch(() => {});
      // The name was free before this join (chooseInterface), so a WireGuard link there is ours.
      await removeWireGuardInterface(env.runner, iface).catch(() => {});
      await removeState(env.configDir, token.network);
      throw err;
    }
  } finally {
    client?.close();
  }
}

/** `preferred` when it is free here and no other joined network uses it, else the next free port. */
async function freeListenPort(env: AgentEnv, preferred: number): Promise<number> {
  const taken = new Set<number>();
  for (const n of await joinedNetworks(env.configDir)) {
    const st = await loadState(env.configDir, n).catch(() => null);
    if (st) taken.add(listenPortOf(st));
  }
  for (let p = preferred; p < preferred + 100 && p <= 65535; p++) {
    if (!taken.has(p) && (await udpPortFree(p))) return p;
  }
  throw new MeshError('INVALID_ARGUMENT', `no free UDP port from ${preferred} to ${preferred + 99} on this host`, { hint: 'Pick one with --port' });
}

/** Saves the state with `view`, then applies it to the interface. */
async function adopt(env: AgentEnv, st: NetworkState, view: NodeView): Promise<JoinResult> {
  const listenPort = listenPortOf(st, view);
  const next = { ...st, listenPort, view };
  await saveState(env.configDir, next);
  await applyView(env, next, view, false, st.view, staticEndpoints(view, next.paths, null));
  return { network: st.network, name: view.self.name, address: view.self.address, interface: st.interface, status: view.self.approved ? 'joined' : 'pending', peers: view.peers.length };
}

/** Applies a view to the interface through the platform adapter (with `dryRun`, only works out
 * what it would change); returns the changes, described. */
export async function applyView(env: AgentEnv, st: NetworkState, view: NodeView, dryRun = false, previous: NodeView | null = st.view, endpoints?: ReadonlyMap<string, string | null>): Promise<string[]> {
  assertSoundView(view, st.network);
  const cfg = wgConfigOf(view, st.interface, keyFile(env.configDir, st.network), listenPortOf(st, view), previous, endpoints);
  const changes = (await (dryRun ? planChanges(env.runner, cfg) : reconcile(env.runner, cfg))).map((c) => c.describe());
  if (!dryRun) {
    for (const c of changes) env.log?.(`${st.network}: ${c}`);
    // Routes to egress ranges behind peers, and this node's own forwarding and NAT as a gateway.
    const more = [
      ...(await setRoutes(env.runner, st.interface, egressRoutesOf(view))),
      ...(await setFirewall(env.runner, st.interface, firewallSpecOf(view, st.interface))),
    ];
    for (const c of more) env.log?.(`${st.network}: ${c}`);
    changes.push(...more);
  }
  // Names change in the same apply as peers. DNS trouble never fails the mesh itself.
  if (!dryRun && env.dns) await env.dns.apply(st.network, st.interface, view).catch((err) => env.log?.(`${st.network}: dns: ${(err as Error).message}`));
  return changes;
}

/** Refuses a view from the controller whose names, keys, addresses or endpoints are malformed,
 * before any of it reaches a file, an interface or a DNS answer. */
export function assertSoundView(view: NodeView, network: string): void {
  const why = viewProblem(view, network);
  if (why) throw new MeshError('INVALID_ARGUMENT', `the controller sent a view of network "${network}" that this agent refuses: ${why}`, { hint: 'Check that the controller runs a matching meshctl' });
}

export interface CheckInResult {
  network: string;
  version: number;
  changed: boolean;
  peers: number;
  /** What was changed on the interface (with --dry-run: what would be). */
  changes: string[];
  /** Set when the controller said this node is no longer in the network: why. The interface and
   * state were then removed here (not with --dry-run). */
  removed?: string;
}

/** One check-in for one network: report, fetch the view when behind, reconcile. With `dryRun`
 * nothing is saved or applied: the changes are only worked out. */
export async function checkIn(env: AgentEnv, network: string, dryRun = false): Promise<CheckInResult> {
  const st = await loadState(env.configDir, network);
  const actual = await readActual(env.runner, st.interface).catch(() => null);
  const handshakes = (actual?.peers ?? []).map((p) => ({
    publicKey: p.publicKey, latestHandshake: p.latestHandshake, rxBytes: p.rxBytes, txBytes: p.txBytes,
    endpoint: p.endpoint ?? '', path: pathOf(st.paths, p.publicKey, p.endpoint).path,
  }));
  const lan = await localAddresses(env.runner, [st.interface]);
  const answer = await firstAnswering(serversOf(st), async (s) => {
    const client = new NodeClient(s, st.caPem, st.credential);
    try {
      return await client.checkIn({ listenPort: listenPortOf(st), endpoint: st.endpoint, knownVersion: st.view?.version ?? 0, handshakes, localAddresses: lan, pathsTag: st.paths?.tag ?? '' });
    } finally {
      client.close();
    }
  }, st.server).catch((err: unknown) => {
    if (!isRemoval(err)) throw err;
    return err;
  });
  if (answer instanceof MeshError) {
    // The network is gone for this node: take it down here too, so that the next check-in (from
    // cron) has nothing left to fail on.
    const why = answer.message;
    if (!dryRun) await teardownNetwork(env, st, why);
    return { network, version: st.view?.version ?? 0, changed: !dryRun, peers: 0, changes: dryRun ? [`would remove ${st.interface} and the local state: ${why}`] : [`removed ${st.interface} and the local state`], removed: why };
  }
  const { server, result: reply } = answer;
  // Never go back to an older view than the one applied (a reply overtaken by a pushed update).
  const older = reply.view !== null && st.view !== null && reply.view.version < st.view.version;
  if (older) env.log?.(`${network}: ignoring a view of version ${reply.view!.version}, older than the one applied (${st.view!.version})`);
  const fresh = older ? null : reply.view;
  if (fresh) assertSoundView(fresh, network);
  const view = fresh ?? st.view;
  const paths: PathUpdate | undefined = reply.paths ?? st.paths;
  const servers = newControllerList(serversOf(st), reply.controllers, server);
  // The controller that answered is the one to try first next time.
  if ((fresh || reply.paths || server !== st.server || servers) && !dryRun) await saveState(env.configDir, { ...st, server, ...(servers ? { servers } : {}), view, ...(paths ? { paths } : {}) });
  // Reconcile every time: someone may have changed the interface by hand.
  const changes = view ? await applyView(env, st, view, dryRun, st.view, staticEndpoints(view, paths, actual?.peers ?? null)) : [];
  // No daemon tries the candidates of peers with no working path: this run does, both ends of a
  // pair at once (cron starts them in the same second), and reports what won or failed.
  if (view && paths && env.nudge && !dryRun) {
    const probed = await probeOnce(env, st, view, paths, (eps) => applyView(env, st, view, false, view, eps));
    if (probed) {
      changes.push(...probed.changes);
      const again = await firstAnswering([server], async (s) => {
        const client = new NodeClient(s, st.caPem, st.credential);
        try {
          return await client.checkIn({ listenPort: listenPortOf(st), endpoint: st.endpoint, knownVersion: view.version, handshakes: probed.handshakes, localAddresses: lan, pathsTag: paths.tag });
        } finally {
          client.close();
        }
      }, server).catch((err: unknown) => {
        env.log?.(`${network}: reporting the paths tried: ${(err as Error).message}`);
        return null;
      });
      // A relay assigned for what failed: use it now, not a minute later.
      const relayed = again?.result.paths;
      if (relayed) {
        await saveState(env.configDir, { ...st, server, ...(servers ? { servers } : {}), view, paths: relayed });
        const now = await readActual(env.runner, st.interface).catch(() => null);
        changes.push(...(await applyView(env, st, view, false, view, staticEndpoints(view, relayed, now?.peers ?? null))));
      }
    }
  }
  return { network, version: reply.version, changed: reply.changed || changes.length > 0, peers: view?.peers.length ?? 0, changes };
}

/** Check-ins for `network`, or every joined network. */
export async function checkInAll(env: AgentEnv, network?: string, dryRun = false): Promise<CheckInResult[]> {
  const nets = network ? [network] : await joinedNetworks(env.configDir);
  if (nets.length === 0) throw new MeshError('NOT_JOINED', 'this node has not joined any network', { hint: 'Join first: meshctl join -t TOKEN' });
  const out: CheckInResult[] = [];
  const failed: MeshError[] = [];
  // One network's trouble must not keep the others from their check-in.
  for (const n of nets) {
    try {
      out.push(await checkIn(env, n, dryRun));
    } catch (err) {
      if (nets.length === 1 || !(err instanceof MeshError)) throw err;
      failed.push(err);
      env.log?.(`${n}: ${err.code}: ${err.message}`);
    }
  }
  if (failed.length) {
    const first = failed[0]!;
    throw new MeshError(first.code, `${failed.length} of ${nets.length} networks failed to check in (the others were applied): ${failed.map((e) => e.message).join('; ')}`, first.hint ? { hint: first.hint } : {});
  }
  return out;
}

/** Tells the controller, removes the interface and the local state. A controller that already
 * removed the node, or cannot be reached, does not keep the node from cleaning up. */
export async function leave(env: AgentEnv, network: string): Promise<{ network: string; left: true; controllerNotified: boolean }> {
  const st = await loadState(env.configDir, network);
  // Mark the leave as ours first: a running agent that hears "removed" from the controller
  // before this removes the state then knows it was the user's own leave, not a removal.
  const marker = leavingFile(env.configDir, network);
  await writeFile(marker, `${process.pid}\n`, { mode: 0o600 });
  try {
    let notified = false;
    try {
      await firstAnswering(serversOf(st), async (s) => {
        const client = new NodeClient(s, st.caPem, st.credential);
        try {
          await client.leave();
        } finally {
          client.close();
        }
      }, st.server);
      notified = true;
    } catch (err) {
      if (!(err instanceof MeshError) || !['NODE_REMOVED', 'UNREACHABLE', 'STORE_UNAVAILABLE', 'UNAUTHENTICATED'].includes(err.code)) throw err;
      env.log?.(`${network}: the controller was not told (${err.code}: ${err.message}); cleaning up locally`);
    }
    // State first, so that a running agent sees the network is gone and does not bring the
    // interface back; put back if the interface cannot be removed, so that leave can be retried.
    const key = await readFile(keyFile(env.configDir, network)).catch(() => null);
    await removeState(env.configDir, network);
    try {
      await removeWireGuardInterface(env.runner, st.interface);
    } catch (err) {
      await saveState(env.configDir, st);
      if (key) await writeFile(keyFile(env.configDir, network), key, { mode: 0o600 });
      throw err;
    }
    for (const f of await runTeardownHooks(env, st)) env.log?.(`${network}: clean-up step failed: ${f}`);
    return { network, left: true, controllerNotified: notified };
  } finally {
    await rm(marker, { force: true });
  }
}

export interface PeerStatus {
  name: string;
  address: string;
  endpoint: string | null;
  /** `direct`, or `relayed` when WireGuard holds the pair's relay endpoint. */
  path: 'direct' | 'relayed';
  /** The candidate WireGuard holds (what won), when it is one the controller offered. */
  candidate: { endpoint: string; kind: string } | null;
  latestHandshake: string | null;
  rxBytes: number;
  txBytes: number;
}

/** Where a network stands on this node, as `meshctl status` shows it:
 * - `in-step`: the controller answers and this node has its current version;
 * - `behind`: the controller answers with a newer version than this node has applied;
 * - `pending-approval`: joined, waiting for an admin (no peers until then);
 * - `removed`: the controller says this node is no longer in the network;
 * - `controller-unreachable`: the mesh runs from the cached view; `since` says from when, when known. */
export type NetworkStateName = 'in-step' | 'behind' | 'pending-approval' | 'removed' | 'controller-unreachable';

export interface NetworkStatus {
  network: string;
  interface: string;
  address: string;
  up: boolean;
  /** Which DNS integration is in effect and how to query by hand. */
  dns: DnsInfo;
  /** The network's state here (see NetworkStateName). */
  state: NetworkStateName;
  /** The version of the view applied here (null: none yet). */
  version: number | null;
  /** `controller-unreachable`: since when (ISO 8601), when known; else null. */
  since: string | null;
  /** One sentence for people: what the state means and what to do. */
  detail: string;
  peers: PeerStatus[];
}

/** What decides a network's state: the controller's answer (or why there was none), and the cached view. */
export interface StateInput {
  /** The controller's current version, when it answered. */
  controllerVersion?: number;
  /** Why the controller gave no answer (UNREACHABLE, NODE_REMOVED, …). */
  error?: MeshError;
  /** Since when the controller has been unreachable, when known. */
  since?: Date | null;
}

/** The state of a network from what the controller said and the view applied here. Pure. */
export function networkState(st: NetworkState, input: StateInput): Pick<NetworkStatus, 'state' | 'version' | 'since' | 'detail'> {
  const version = st.view?.version ?? null;
  const since = input.since ? input.since.toISOString() : null;
  if (input.error?.code === 'NODE_REMOVED' || input.error?.code === 'UNAUTHENTICATED') {
    return { state: 'removed', version, since: null, detail: `the controller no longer knows this node (${input.error.message}); the mesh runs from the cache until it is taken down. To clean up now: meshctl leave -n ${st.network}` };
  }
  if (input.error) {
    return { state: 'controller-unreachable', version, since, detail: `the controller ${st.server} does not answer${since ? ` since ${since}` : ''} (${input.error.message}); the mesh runs from the cached view${version !== null ? ` at version ${version}` : ''}` };
  }
  if (input.controllerVersion !== undefined && input.controllerVersion !== version) {
    return { state: 'behind', version, since: null, detail: `the controller is at version ${input.controllerVersion}, this node at ${version ?? 'none'}: meshctl checkin -n ${st.network} (or run meshctl agent)` };
  }
  if (st.view && !st.view.self.approved) {
    return { state: 'pending-approval', version, since: null, detail: `waiting for an admin to approve this node: meshctl nodes approve ${st.network} ${st.view.self.name}` };
  }
  return { state: 'in-step', version, since: null, detail: `in step with the controller at version ${version ?? 0}` };
}

/** The handshakes this node sees, for the controller's health view. */
async function handshakesOf(env: AgentEnv, iface: string): Promise<CheckInRequest['handshakes']> {
  const actual = await readActual(env.runner, iface).catch(() => null);
  return (actual?.peers ?? []).map((p) => ({ publicKey: p.publicKey, latestHandshake: p.latestHandshake, rxBytes: p.rxBytes, txBytes: p.txBytes }));
}

/** Asks the controller (one check-in, 5 s at most) where `st` stands; for `status` without an agent. */
export async function probeState(env: AgentEnv, st: NetworkState): Promise<StateInput> {
  const client = new NodeClient(st.server, st.caPem, st.credential);
  try {
    const reply = await client.checkIn({ listenPort: listenPortOf(st), endpoint: st.endpoint, knownVersion: st.view?.version ?? 0, handshakes: await handshakesOf(env, st.interface) }, 5000);
    return { controllerVersion: reply.version };
  } catch (err) {
    if (err instanceof MeshError) return { error: err };
    throw err;
  } finally {
    client.close();
  }
}

/** What this node has, read from WireGuard itself; peer names come from the cached view. The
 * state comes from `stateOf` (a running agent knows it), else from asking the controller once. */
export async function status(env: AgentEnv, network?: string, stateOf?: (network: string) => StateInput | undefined): Promise<NetworkStatus[]> {
  const nets = network ? [network] : await joinedNetworks(env.configDir);
  const out: NetworkStatus[] = [];
  for (const n of nets) {
    const st = await loadState(env.configDir, n);
    const actual = await readActual(env.runner, st.interface);
    const byKey = new Map((st.view?.peers ?? []).map((p) => [p.publicKey, p]));
    out.push({
      network: n,
      interface: st.interface,
      address: actual?.addresses[0] ?? (st.view ? `${st.view.self.address}/${st.view.self.prefixLength}` : ''),
      up: actual?.up ?? false,
      dns: env.dns?.info(n) ?? (await offlineDnsInfo(env.hostsFile ?? null, n, st.view)),
      ...networkState(st, stateOf?.(n) ?? (await probeState(env, st))),
      peers: (actual?.peers ?? []).map((p) => ({
        name: byKey.get(p.publicKey)?.name ?? p.publicKey.slice(0, 8),
        address: byKey.get(p.publicKey)?.address ?? p.allowedIps[0] ?? '',
        endpoint: p.endpoint,
        ...pathOf(st.paths, p.publicKey, p.endpoint, byKey.get(p.publicKey)?.endpoint),
        latestHandshake: p.latestHandshake ? new Date(p.latestHandshake * 1000).toISOString() : null,
        rxBytes: p.rxBytes,
        txBytes: p.txBytes,
      })),
    });
  }
  return out;
}
