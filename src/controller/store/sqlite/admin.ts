// Tables `admin_tokens` and `audit_log`.
import type { AdminToken, AuditEntry } from '../../../core/types.ts';
import { adminTokenExists, noSuchAdminToken } from '../shared/refusals.ts';
import type { Sql } from './engine.ts';
import { RETENTION, type AuditFilter } from '../store.ts';

const COLS = 'name, created_at AS createdAt, expires_at AS expiresAt, revoked_at AS revokedAt';

/** The token whose secret hashes to `hash`, revoked and expired ones included. */
export const getAdminTokenByHash = (sql: Sql, hash: string): AdminToken | undefined =>
  sql.get<AdminToken>(`SELECT ${COLS} FROM admin_tokens WHERE token_hash = ?`, [hash]);

export const listAdminTokens = (sql: Sql): AdminToken[] => sql.all<AdminToken>(`SELECT ${COLS} FROM admin_tokens ORDER BY created_at, name`);

/** Inserts a named token; refuses a taken name (revoked names stay taken, so the audit log stays unambiguous). */
export function insertAdminToken(sql: Sql, t: { name: string; hash: string; expiresAt: string | null }): AdminToken {
  if (sql.get('SELECT 1 FROM admin_tokens WHERE name = ?', [t.name])) throw adminTokenExists(t.name);
  const createdAt = new Date().toISOString();
  sql.run('INSERT INTO admin_tokens (token_hash, name, created_at, expires_at) VALUES (?, ?, ?, ?)', [t.hash, t.name, createdAt, t.expiresAt]);
  return { name: t.name, createdAt, expiresAt: t.expiresAt, revokedAt: null };
}

export function revokeAdminToken(sql: Sql, name: string): AdminToken {
  const t = sql.get<AdminToken>(`SELECT ${COLS} FROM admin_tokens WHERE name = ?`, [name]);
  if (!t) throw noSuchAdminToken(name);
  if (t.revokedAt) return t;
  const revokedAt = new Date().toISOString();
  sql.run('UPDATE admin_tokens SET revoked_at = ? WHERE name = ?', [revokedAt, name]);
  return { ...t, revokedAt };
}

export { RETENTION };

export function appendAudit(sql: Sql, actor: string, action: string, target: string): void {
  sql.run('INSERT INTO audit_log (at, actor, action, target) VALUES (?, ?, ?, ?)', [new Date().toISOString(), actor, action, target]);
  // Bounded: a node joining and leaving in a loop must not grow the database for ever.
  sql.run('DELETE FROM audit_log WHERE id <= (SELECT max(id) FROM audit_log) - ?', [RETENTION.auditRows]);
}

/** The newest `limit` entries, newest first. A network's entries: its own (target = the name)
 * and those on things in it (target "<network>/..."). ISO 8601 times compare as text. */
export const listAudit = (sql: Sql, limit: number, f: AuditFilter = {}): AuditEntry[] =>
  sql.all<AuditEntry>(
    `SELECT at, actor, action, target FROM audit_log
     WHERE (? IS NULL OR at >= ?) AND (? IS NULL OR target = ? OR substr(target, 1, length(?) + 1) = ? || '/')
     ORDER BY id DESC LIMIT ?`,
    [f.since ?? null, f.since ?? null, f.network ?? null, f.network ?? null, f.network ?? null, f.network ?? null, limit],
  );
