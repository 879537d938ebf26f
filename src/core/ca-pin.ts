// The CA pin: "sha256:<hex>" of a certificate's SubjectPublicKeyInfo (DER), as carried by join and
// login tokens (the kubeadm discovery hash). The one place it is computed and checked.
import type { X509Certificate } from 'node:crypto';

// node:crypto is loaded when a pin is first computed, not with every module that imports this
// one (the admin CLI's start, issue 15).
const crypto = () => process.getBuiltinModule('node:crypto');

export const PIN_FORMAT = /^sha256:[0-9a-f]{64}$/;

/** The pin of a certificate (PEM text or parsed). */
export function pinOf(cert: X509Certificate | string): string {
  const c = typeof cert === 'string' ? new (crypto().X509Certificate)(cert) : cert;
  return 'sha256:' + crypto().createHash('sha256').update(c.publicKey.export({ type: 'spki', format: 'der' })).digest('hex');
}

/** The CA of `chain` (leaf first) whose pin is `pin`, if it also signed the leaf; else undefined. */
export function pinnedCaOf(chain: readonly X509Certificate[], pin: string): X509Certificate | undefined {
  const ca = chain.find((c) => pinOf(c) === pin);
  const leaf = chain[0];
  if (!ca || !leaf || !leaf.checkIssued(ca) || !leaf.verify(ca.publicKey)) return undefined;
  return ca;
}
