// The operator's listener (--metrics-addr, default 127.0.0.1:9090, no authentication, as
// Headscale does): GET /metrics (Prometheus text), /healthz (the process answers), /readyz (the
// store is open and every listener is up). Nothing here changes state or shows a secret.
import { createServer, type Server } from 'node:http';
import type { Logger } from 'pino';
import { scrape } from './metrics.ts';

export interface Readiness {
  /** Why the controller is not ready, or [] when it is. */
  problems(): string[];
}

export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

/** Listens on host:port; rejects with the listen error (EADDRINUSE …). */
export async function startMetricsServer(host: string, port: number, ready: Readiness, log: Logger): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'text/plain', 'only GET\n');
    if (path === '/healthz') return send(200, 'text/plain', 'ok\n');
    if (path === '/readyz') {
      const p = ready.problems();
      return p.length ? send(503, 'text/plain', `not ready: ${p.join('; ')}\n`) : send(200, 'text/plain', 'ready\n');
    }
    if (path === '/metrics') {
      scrape().then(
        (m) => send(200, m.contentType, m.body),
        (err: unknown) => {
          log.error({ err }, 'collecting metrics failed');
          send(500, 'text/plain', 'collecting metrics failed; see the controller log\n');
        },
      );
      return;
    }
    send(404, 'text/plain', 'not found: try /metrics, /healthz or /readyz\n');
  });
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address();
  return {
    port: typeof bound === 'object' && bound ? bound.port : port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
