// The controller's own TLS material: a CA made on first start and a server certificate it
// signs for the gRPC node API. Keys are written 0600 and never leave the data directory.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { webcrypto, X509Certificate } from 'node:crypto';
import { pinOf } from '../core/ca-pin.ts';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isIP } from 'node:net';

type CryptoKey = webcrypto.CryptoKey;
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const TEN_YEARS = 10 * 365 * 86400e3;

export interface TlsMaterial {
  caCertPem: string;
  certPem: string;
  keyPem: string;
  /** "sha256:<hex>" of the CA's SubjectPublicKeyInfo, as carried by join tokens. */
  caPin: string;
}


async function pemKey(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

const serial = () => webcrypto.getRandomValues(new Uint8Array(16)).reduce((s, b) => s + b.toString(16).padStart(2, '0'), '').replace(/^[89a-f]/, '1');

/** Loads the TLS material under `<dataDir>/tls`, creating the CA and a server certificate for
 * `hosts` on first start. A server certificate that does not cover `hosts`, or was not issued by
 * the CA, is re-issued. With `caDir` (`--ca-dir`: several controllers of one site share a CA),
 * the CA is read from there (made there if it holds none); the server certificate stays this
 * controller's own. */
export async function ensureTls(dataDir: string, hosts: string[], caDir?: string): Promise<TlsMaterial> {
  const dir = join(dataDir, 'tls');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const cas = caDir ?? dir;
  if (caDir) await mkdir(caDir, { recursive: true, mode: 0o700 });
  const caCertPath = join(cas, 'ca.crt'), caKeyPath = join(cas, 'ca.key');
  const certPath = join(dir, 'server.crt'), keyPath = join(dir, 'server.key');

  let caCertPem: string, caKey: CryptoKey;
  if (existsSync(caCertPath) && existsSync(caKeyPath)) {
    caCertPem = await readFile(caCertPath, 'utf8');
    caKey = await webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(await readFile(caKeyPath, 'utf8')), ALG, false, ['sign']);
  } else {
    const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
    const ca = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: serial(),
      name: 'CN=meshctl controller CA',
      notBefore: new Date(Date.now() - 3600e3),
      notAfter: new Date(Date.now() + TEN_YEARS),
      keys,
      signingAlgorithm: ALG,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    caCertPem = ca.toString('pem');
    caKey = keys.privateKey;
    await writeFile(caKeyPath, await pemKey(keys.privateKey), { mode: 0o600 });
    await writeFile(caCertPath, caCertPem, { mode: 0o644 });
  }
  // With a shared CA elsewhere, its certificate (never its key) is also kept in <data-dir>/tls,
  // where local admin commands (--data-dir) look for the CA that signed the admin API.
  if (caDir) await writeFile(join(dir, 'ca.crt'), caCertPem, { mode: 0o644 });

  const wanted = [...new Set(['localhost', '127.0.0.1', ...hosts])].sort();
  if (existsSync(certPath) && existsSync(keyPath)) {
    const certPem = await readFile(certPath, 'utf8');
    const cert = new X509Certificate(certPem);
    const covers = wanted.every((h) => (isIP(h) ? cert.checkIP(h) : cert.checkHost(h)) !== undefined);
    if (covers && cert.checkIssued(new X509Certificate(caCertPem))) {
      return { caCertPem, certPem, keyPem: await readFile(keyPath, 'utf8'), caPin: pinOf(caCertPem) };
    }
  }
  const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: 'CN=meshctl controller',
    issuer: new x509.X509Certificate(caCertPem).subject,
    notBefore: new Date(Date.now() - 3600e3),
    notAfter: new Date(Date.now() + TEN_YEARS),
    publicKey: keys.publicKey,
    signingKey: caKey,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(wanted.map((h) => ({ type: isIP(h) ? 'ip' : 'dns', value: h }) as x509.JsonGeneralName)),
    ],
  });
  const certPem = cert.toString('pem');
  const keyPem = await pemKey(keys.privateKey);
  await writeFile(keyPath, keyPem, { mode: 0o600 });
  await writeFile(certPath, certPem, { mode: 0o644 });
  return { caCertPem, certPem, keyPem, caPin: pinOf(caCertPem) };
}
