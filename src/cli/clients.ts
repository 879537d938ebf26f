// External clients on the admin's side: the key pair is made here, where the config is printed,
// and only its public key goes to the controller. The config is shown as text and as a QR code.
import { chmod, writeFile } from 'node:fs/promises';
import { generateKeyPair } from '../core/wg-key.ts';
import { withPrivateKey } from '../core/client-config.ts';
import type { ExtClient } from '../core/types.ts';
import type { adminApi } from './admin-api.ts';

export interface CreateClientOptions {
  name: string;
  gateway: string;
  /** The client's own public key; without it a key pair is made here. */
  publicKey?: string;
  dns?: boolean;
  fullTunnel?: boolean;
}

/** Creates the client; its `config` carries the private key when the pair was made here, else the placeholder. */
export async function createClient(api: ReturnType<typeof adminApi>, network: string, o: CreateClientOptions): Promise<ExtClient> {
  const pair = o.publicKey ? null : generateKeyPair();
  const c = await api.createClient(network, {
    name: o.name,
    gateway: o.gateway,
    publicKey: o.publicKey ?? pair!.publicKey,
    ...(o.dns ? { dns: true } : {}),
    ...(o.fullTunnel ? { fullTunnel: true } : {}),
  });
  return pair && c.config ? { ...c, config: withPrivateKey(c.config, pair.privateKey) } : c;
}

/** Writes a config to `path`, readable by its owner only (it may hold a private key). */
export async function writeConfigFile(path: string, config: string): Promise<void> {
  await writeFile(path, config, { mode: 0o600 });
  await chmod(path, 0o600); // an existing file keeps its mode on write
}

/** The config as a QR code for a terminal: half-block characters, dark on light whatever the terminal's colours. */
export async function qrOf(text: string): Promise<string> {
  const { default: QRCode } = await import('qrcode'); // only this command needs it
  return QRCode.toString(text, { type: 'terminal', small: true, errorCorrectionLevel: 'L' });
}
