// Trust on first contact, pinned: fetch the controller's certificate chain over TLS and accept
// it only if it contains the CA whose public key hash is the pin in the join token, and that CA
// signed the server certificate (as `kubeadm join` does with --discovery-token-ca-cert-hash).
import { connect, type PeerCertificate, type DetailedPeerCertificate } from 'node:tls';
import { X509Certificate, createHash } from 'node:crypto';
import { MeshError } from '../core/errors.ts';
import { parseHostPort } from '../core/address.ts';

const pinOf = (c: X509Certificate) => 'sha256:' + createHash('sha256').update(c.publicKey.export({ type: 'spki', format: 'der' })).digest('hex');

/** Connects to `server` (host:port), returns the PEM of the CA matching `pin`, or throws TLS_PIN_MISMATCH / UNREACHABLE. */
export async function fetchPinnedCa(server: string, pin: string, timeoutMs = 10_000): Promise<string> {
  const { host, port } = parseHostPort(server, 'controller address');
  const chain = await new Promise<X509Certificate[]>((resolve, reject) => {
    const sock = connect({ host, port, rejectUnauthorized: false, ALPNProtocols: ['h2'], servername: /^[\d.]+$|:/.test(host) ? undefined as unknown as string : host });
    const timer = setTimeout(() => sock.destroy(new Error('timed out')), timeoutMs);
    sock.once('secureConnect', () => {
      clearTimeout(timer);
      const certs: X509Certificate[] = [];
      let c: PeerCertificate | DetailedPeerCertificate | undefined = sock.getPeerCertificate(true);
      const seen = new Set<string>();
      while (c && c.raw && !seen.has(c.fingerprint256)) {
        seen.add(c.fingerprint256);
        certs.push(new X509Certificate(c.raw));
        c = (c as DetailedPeerCertificate).issuerCertificate;
      }
      sock.end();
      resolve(certs);
    });
    sock.once('error', (err) => {
      clearTimeout(timer);
      reject(new MeshError('UNREACHABLE', `cannot reach the controller at ${server}: ${(err as NodeJS.ErrnoException).code ?? err.message}`, {
        hint: 'Check that `meshctl server` runs there, its --grpc-addr, and that this host can reach it',
        cause: err,
      }));
    });
  });
  const ca = chain.find((c) => pinOf(c) === pin);
  const leaf = chain[0];
  if (!ca || !leaf || !leaf.checkIssued(ca) || !leaf.verify(ca.publicKey)) {
    throw new MeshError('TLS_PIN_MISMATCH', `the controller at ${server} did not present the CA pinned in the join token`, {
      hint: 'The token belongs to another controller, or something is intercepting the connection; get a fresh token from your controller',
    });
  }
  return ca.toString();
}
