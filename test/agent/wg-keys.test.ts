// src/agent/wg-keys.ts: the node's X25519 key pair, private key 0600 on disk.
import t from 'tap';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateKeyFile } from '../../src/agent/wg-keys.ts';
import { publicKeyOfFile } from '../../src/platform/wireguard.ts';

t.test('writes a base64 32-byte private key, mode 0600, and returns its public key', async (t) => {
  const dir = t.testdir();
  const path = join(dir, 'office.key');
  const pub = await generateKeyFile(path);
  const text = await readFile(path, 'utf8');
  t.match(text, /^[A-Za-z0-9+/]{43}=\n$/, 'one base64 key and a newline');
  t.equal(Buffer.from(text.trim(), 'base64').length, 32);
  t.equal((await stat(path)).mode & 0o777, 0o600);
  t.match(pub, /^[A-Za-z0-9+/]{43}=$/);
  t.equal(await publicKeyOfFile(path), pub, 'the public key belongs to the private key written');
  t.not(pub, text.trim(), 'the public key is not the private key');
});

t.test('every call makes a new pair; an existing file made readable by others is tightened to 0600', async (t) => {
  const dir = t.testdir();
  const path = join(dir, 'k');
  await writeFile(path, 'old\n', { mode: 0o644 });
  const a = await generateKeyFile(path);
  t.equal((await stat(path)).mode & 0o777, 0o600);
  const b = await generateKeyFile(join(dir, 'k2'));
  t.not(a, b);
});
