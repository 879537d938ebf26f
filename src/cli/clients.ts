// External clients on the admin's side: the key pair is made here, where the config is printed,
// and only its public key goes to the controller. The config is shown as text and as a QR code.
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { MeshError } from '../core/errors.ts';
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

/** A config file claimed before the client exists, so a bad `--out` path fails before anything is
 * created on the controller, and the private key is never written into a file others can read. */
export interface ConfigFile {
  write(config: string): Promise<void>;
  /** Removes the still-empty file (the create failed). */
  discard(): Promise<void>;
}

/** Creates `path` (mode 0600, refusing an existing file: it may hold another client's key). */
export async function openConfigFile(path: string): Promise<ConfigFile> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'wx', 0o600);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'EEXIST' ? 'it already exists' : code === 'ENOENT' ? 'its directory does not exist' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : (e as Error).message;
    throw new MeshError('INVALID_ARGUMENT', `cannot write the config to --out ${path}: ${why}`, {
      hint: code === 'EEXIST' ? 'Pick a new file name, or remove the old file first (it may hold another client\'s private key)' : 'Pass a writable file path, e.g. --out ./phone.conf',
    });
  }
  return {
    async write(config) {
      try {
        await fh.writeFile(config);
        await fh.sync();
      } finally {
        await fh.close();
      }
    },
    async discard() {
      await fh.close().catch(() => {});
      await unlink(path).catch(() => {});
    },
  };
}

/** The config as a QR code for a terminal: half-block characters, dark on light whatever the terminal's colours. */
export async function qrOf(text: string): Promise<string> {
  const { default: QRCode } = await import('qrcode'); // only this command needs it
  return QRCode.toString(text, { type: 'terminal', small: true, errorCorrectionLevel: 'L' });
}
