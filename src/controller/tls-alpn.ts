// Every TLS connection Node accepts copies the server's ALPN protocol list ("h2": 3 bytes) into a
// Buffer of its own (the TLSSocket constructor calls tls.convertALPNProtocols with the server's
// list) and keeps it for the connection's life (socket._tlsOptions). A Buffer that small is a
// slice of Node's shared allocation pool, 64 KB per pool chunk on Node 26, and a live slice keeps
// its whole chunk: when other Buffers are allocated between two accepted connections (any
// traffic at all), each connection keeps a chunk of its own. A heap snapshot of the controller
// with 1,000 agents connected (`npm run bench:converge -- --heap-snapshot DIR`) found 420
// chunks, 26 MB, kept by nothing but these copies; a long-running controller that accepts its
// agents one by one would keep up to 64 KB per agent. Here the copy is replaced by one
// unpooled Buffer per distinct list, shared by every connection (Node never writes to it).
import tls from 'node:tls';

type Convert = (protocols: unknown, out: { ALPNProtocols?: unknown }) => void;

const shared = new Map<string, Buffer>();
let installed = false;

/** The one Buffer kept for an ALPN list with these bytes (not from the pool). */
export function sharedAlpn(list: Uint8Array): Buffer {
  const key = Buffer.from(list.buffer, list.byteOffset, list.byteLength).toString('latin1');
  let b = shared.get(key);
  if (!b) {
    b = Buffer.allocUnsafeSlow(list.byteLength);
    b.set(list);
    shared.set(key, b);
  }
  return b;
}

/** Makes every TLS connection of this process share its ALPN list instead of pinning a pool
 * chunk each (see above). Idempotent; nothing happens on a Node without tls.convertALPNProtocols. */
export function shareAlpnLists(): void {
  const mod = tls as unknown as { convertALPNProtocols?: Convert };
  const convert = mod.convertALPNProtocols;
  if (installed || typeof convert !== 'function') return;
  installed = true;
  mod.convertALPNProtocols = (protocols, out) => {
    convert(protocols, out);
    const b = out.ALPNProtocols;
    // only short lists (a handful of protocol names): anything else is left as Node made it
    if (b instanceof Uint8Array && b.byteLength <= 256 && shared.size < 64) out.ALPNProtocols = sharedAlpn(b);
  };
}
