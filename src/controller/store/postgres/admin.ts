// Tables `admin_tokens` and `audit_log`.
import type { AdminToken, AuditEntry } from '../../../core/types.ts';
import { adminTokenExists, noSuchAdminToken } from '../shared/refusals.ts';
import type { Q } from './engine.ts';
import { RETENTION, type AuditFilter } from '../store.ts';

const COLS = 'name, created_at AS "createdAt", expires_at AS "expiresAt", revoked_at AS "revokedAt"';

/** The token whose secret hashes to `hash`, revoked and expired ones included. */
export const getAdminTokenByHash = (q: Q, hash: string): Promise<AdminToken | undefined> =>
  q.get<AdminToken>(`SELECT ${COLS} FROM admin_tokens WHERE token_hash = $1`, [hash]);

export const listAdminTokens = (q: Q): Promise<AdminToken[]> => q.all<AdminToken>(`SELECT ${COLS} FROM admin_tokens ORDER BY created_at, name`);

/** Inserts a named token; refuses a taken name (revoked names stay taken). */
export async function insertAdminToken(q: Q, t: { name: string; hash: string; expiresAt: string | null }): Promise<AdminToken> {
  if (await q.get('SELECT 1 FROM admin_tokens WHERE name = $1', [t.name])) throw adminTokenExists(t.name);
  const createdAt = new Date().toISOString();
  await q.run('INSERT INTO admin_tokens (token_hash, name, created_at, expires_at) VALUES ($1, $2, $3, $4)', [t.hash, t.name, createdAt, t.expiresAt]);
  return { name: t.name, createdAt, expiresAt: t.expiresAt, revokedAt: null };
}

export async function revokeAdminToken(q: Q, name: string): Promise<AdminToken> {
  const t = await q.get<AdminToken>(`SELECT ${COLS} FROM admin_tokens WHERE name = $1`, [name]);
  if (!t) throw noSuchAdminToken(name);
  if (t.revokedAt) return t;
  const revokedAt = new Date().toISOString();
  await q.run('UPDATE admin_tokens SET revoked_at = $1 WHERE name = $2', [revokedAt, name]);
  return { ...t, revokedAt };
}

/** Appends an entry and drops the oldest beyond RETENTION.auditRows, in one statement. */
export async function appendAudit(q: Q, actor: string, action: string, target: string): Promise<void> {
  // Bounded, as in the embedded store: a node joining and leaving in a loop must not grow the
  // database for ever. Ids of concurrent writers may commit out of order: the bound is approximate
  // by the writes in flight, never unbounded.
  await q.run(
    'WITH added AS (INSERT INTO audit_log (at, actor, action, target) VALUES ($1, $2, $3, $4) RETURNING id) DELETE FROM audit_log WHERE id <= (SELECT id FROM added) - $5',
    [new Date().toISOString(), actor, action, target, RETENTION.auditRows],
  );
}

/** The newest `limit` entries, newest first. A network's entries: its own (target = the name)
 * and those on things in it (target "<network>/..."). ISO 8601 times compare as text. */
export const listAudit = (q: Q, limit: number, f: AuditFilter = {}): Promise<AuditEntry[]> =>
  q.all<AuditEntry>(
    `SELECT at, actor, action, target FROM audit_log
     WHERE ($2::text IS NULL OR at >= $2) AND ($3::text IS NULL OR target = $3 OR left(target, length($3) + 1) = $3 || '/')
     ORDER BY id DESC LIMIT $1`,
    [limit, f.since ?? null, f.network ?? null],
  );
