// fetch() for the controller's admin API in tests: HTTPS trusting only the CA in the controller's
// data directory (plain HTTP for an http:// URL), answering a web Response like fetch does.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pinnedFetch } from '../../src/net/pinned-fetch.ts';

export interface FetchInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

/** A fetch for the admin API of the controller whose data directory is `dataDir` (CA in `caDir` under --ca-dir). */
export function adminFetchFor(dataDir: string, caDir = join(dataDir, 'tls')) {
  return (url: string, init: FetchInit = {}): Promise<Response> => {
    const ca = url.startsWith('https:') ? readFileSync(join(caDir, 'ca.crt'), 'utf8') : undefined;
    return pinnedFetch(url, {
      ...(init.method ? { method: init.method } : {}),
      ...(init.headers ? { headers: init.headers } : {}),
      ...(init.body !== undefined ? { body: init.body } : {}),
      timeoutMs: 15_000,
    }, ca);
  };
}
