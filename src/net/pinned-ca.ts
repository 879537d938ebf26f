// Trust on first contact, pinned: fetch the controller's certificate chain over TLS and accept
// it only if it contains the CA whose public key hash is the pin in the join token, and that CA
// signed the server certificate (as `kubeadm join` does with --discovery-token-ca-cert-hash).
// Used by the agent (node API, gRPC) and by the admin CLI (admin API, HTTPS).
// node:tls and node:crypto load when a chain is first fetched (not at every CLI start).
import type { PeerCertificate, DetailedPeerCertificate } from 'node:tls';
import type { X509Certificate } from 'node:crypto';
import { MeshError } from '../core/errors.ts';
import { parseHostPort } from '../core/address.ts';
import { pinnedCaOf } from '../core/ca-pin.ts';

export interface PinnedCaOptions {
  timeoutMs?: number;
  /** ALPN to offer: gRPC needs h2; the admin API speaks HTTP/1.1. */
  alpn?: string[];
  /** What the token is called in errors ("join token", "login token"). */
  tokenKind?: string;
  /** Hint when the controller cannot be reached. */
  unreachableHint?: string;
}

/** Connects to `server` (host:port), returns the PEM of the CA matching `pin`, or throws TLS_PIN_MISMATCH / UNREACHABLE. */
export async function fetchPinnedCa(server: string, pin: string, opts: PinnedCaOptions | number = {}): Promise<string> {
  const o: PinnedCaOptions = typeof opts === 'number' ? { timeoutMs: opts } : opts;
  const timeoutMs = o.timeoutMs ?? 10_000;
  const { host, port } = parseHostPort(server, 'controller address');
  const chain = await new Promise<X509Certificate[]>((resolve, reject) => {
    const sock = process.getBuiltinModule('node:tls').connect({ host, port, rejectUnauthorized: false, ALPNProtocols: o.alpn ?? ['h2'], servername: /^[\d.]+$|:/.test(host) ? undefined as unknown as string : host });
    const timer = setTimeout(() => sock.destroy(new Error('timed out')), timeoutMs);
    sock.once('secureConnect', () => {
      clearTimeout(timer);
      const certs: X509Certificate[] = [];
      let c: PeerCertificate | DetailedPeerCertificate | undefined = sock.getPeerCertificate(true);
      const seen = new Set<string>();
      while (c && c.raw && !seen.has(c.fingerprint256)) {
        seen.add(c.fingerprint256);
        certs.push(new (process.getBuiltinModule('node:crypto').X509Certificate)(c.raw));
        c = (c as DetailedPeerCertificate).issuerCertificate;
      }
      sock.end();
      resolve(certs);
    });
    sock.once('error', (err) => {
      clearTimeout(timer);
      reject(new MeshError('UNREACHABLE', `cannot reach the controller at ${server}: ${(err as NodeJS.ErrnoException).code ?? err.message}`, {
        hint: o.unreachableHint ?? 'Check that `meshctl server` runs there, its --grpc-addr, and that this host can reach it',
        cause: err,
      }));
    });
  });
  const ca = pinnedCaOf(chain, pin);
  if (!ca) {
    throw new MeshError('TLS_PIN_MISMATCH', `the controller at ${server} did not present the CA pinned in the ${o.tokenKind ?? 'join token'}`, {
      hint: 'The token belongs to another controller, or something is intercepting the connection; get a fresh token from your controller',
    });
  }
  return ca.toString();
}
