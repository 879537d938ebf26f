import * as Flags from '@oclif/core/flags';
import { MeshCommand } from '../cli/base.ts';
import { agentFlags, agentEnv, configDirOf } from '../cli/agent-flags.ts';
import { table } from '../cli/table.ts';
import type { NetworkStatus } from '../agent/node.ts';

const ago = (iso: string | null) => (iso ? `${Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000))}s ago` : 'never');

const dnsLine = (r: NetworkStatus) => {
  const d = r.dns;
  if (!d) return '';
  const how = d.mode === 'resolved' ? `systemd-resolved sends ~${d.domain} to ${d.responder ?? 'this node'}` : d.mode === 'hosts' ? `names in ${d.hostsFile}` : 'the host does not use the mesh names';
  return `  dns: ${how}${d.responder ? `; answering on ${d.responder}` : ''}${d.query ? `; try: ${d.query}` : ''}\n`;
};

const STATE_LABEL: Record<string, string> = {
  'in-step': 'in step',
  behind: 'BEHIND',
  'pending-approval': 'PENDING APPROVAL',
  removed: 'REMOVED',
  'controller-unreachable': 'CONTROLLER UNREACHABLE',
};

export default class Status extends MeshCommand {
  static override summary = 'Show this node\'s networks: interface, address, peers and handshakes.';
  static override flags = { ...agentFlags, network: Flags.string({ char: 'n', description: 'only this network' }) };

  async run(): Promise<NetworkStatus[]> {
    const { flags } = await this.parse(Status);
    const { status } = await import('../agent/node.ts');
    const { viaAgent } = await import('../agent/control.ts');
    // A running agent answers over its socket; without one, read WireGuard directly.
    const rs = await viaAgent<NetworkStatus[]>(configDirOf(flags), 'Status', flags.network, () =>
      status(agentEnv(flags, (m) => this.logToStderr(m)), flags.network),
    );
    this.out(
      rs.length === 0
        ? 'Not joined to any network. Join with: meshctl join -t TOKEN'
        : rs.map((r) => `${r.network}: ${r.interface} ${r.address} ${r.up ? 'up' : 'DOWN'}, ${STATE_LABEL[r.state] ?? r.state}: ${r.detail}\n` + dnsLine(r) +
            (r.peers.length ? table(['PEER', 'ADDRESS', 'ENDPOINT', 'PATH', 'HANDSHAKE', 'RX', 'TX'], r.peers.map((p) => [p.name, p.address, p.endpoint, p.candidate ? `${p.path} (${p.candidate.kind})` : p.path, ago(p.latestHandshake), p.rxBytes, p.txBytes])) : '  no peers')).join('\n\n'),
    );
    return rs;
  }
}
