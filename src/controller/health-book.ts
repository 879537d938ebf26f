// Soft state about node health: the latest WireGuard handshake any peer reported with each
// node (by public key). Kept in memory: it changes on every check-in.
export class HealthBook {
  private readonly latest = new Map<string, number>(); // public key -> ms since epoch

  /** Records handshakes a node reported with its peers (unix seconds; 0 = never). */
  report(handshakes: readonly { publicKey: string; latestHandshake: number }[], now = Date.now()): void {
    for (const h of handshakes) {
      if (!h.latestHandshake) continue;
      const ms = Math.min(h.latestHandshake * 1000, now); // a clock ahead (or a liar) cannot make a peer look alive forever
      if ((this.latest.get(h.publicKey) ?? 0) < ms) this.latest.set(h.publicKey, ms);
    }
  }

  lastHandshake(publicKey: string): number | null {
    return this.latest.get(publicKey) ?? null;
  }

  forget(publicKey: string): void {
    this.latest.delete(publicKey);
  }
}
