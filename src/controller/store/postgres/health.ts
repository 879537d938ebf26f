// Table `node_health`: handshake reports shared between controllers (see health-book.ts).
import type { HealthReport } from '../../health-book.ts';
import type { Q } from './engine.ts';

/** Writes reports in one statement; a later report never goes back to an earlier one, and a
 * report about (or by) a node that is gone by now is skipped. */
export async function writeReports(q: Q, reports: readonly HealthReport[]): Promise<void> {
  if (reports.length === 0) return;
  await q.run(
    `INSERT INTO node_health (subject, reporter, network, handshake_ms)
     SELECT t.subject, t.reporter, t.network, t.at
       FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) AS t(subject, reporter, network, at)
       JOIN nodes s ON s.id = t.subject JOIN nodes r ON r.id = t.reporter
     ON CONFLICT (subject, reporter) DO UPDATE SET handshake_ms = GREATEST(node_health.handshake_ms, EXCLUDED.handshake_ms)`,
    [reports.map((r) => r.subject), reports.map((r) => r.reporter), reports.map((r) => r.network), reports.map((r) => r.at)],
  );
}

/** Every shared report about members of `network` (every network when undefined). */
export async function readReports(q: Q, network?: string): Promise<HealthReport[]> {
  const rows = network === undefined
    ? await q.all<{ subject: string; reporter: string; network: string; handshake_ms: string }>('SELECT subject, reporter, network, handshake_ms FROM node_health')
    : await q.all<{ subject: string; reporter: string; network: string; handshake_ms: string }>('SELECT subject, reporter, network, handshake_ms FROM node_health WHERE network = $1', [network]);
  return rows.map((r) => ({ network: r.network, subject: r.subject, reporter: r.reporter, at: Number(r.handshake_ms) }));
}
