// Where sql.js's WebAssembly comes from: the single executable's embedded asset, else node_modules.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';

export async function loadSqlWasm(): Promise<ArrayBuffer | Uint8Array> {
  const sea = await import('node:sea').catch(() => undefined);
  if (sea?.isSea()) return sea.getAsset('sql-wasm.wasm');
  const require = createRequire(import.meta.url);
  return readFileSync(require.resolve('sql.js/dist/sql-wasm.wasm'));
}
