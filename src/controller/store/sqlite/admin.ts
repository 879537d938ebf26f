// Tables `admin_tokens` and `audit_log`.
import type { AuditEntry } from '../../../core/types.ts';
import type { Sql } from './engine.ts';

export const hasAdminToken = (sql: Sql, hash: string): boolean => sql.get('SELECT 1 FROM admin_tokens WHERE token_hash = ?', [hash]) !== undefined;

export function insertAdminToken(sql: Sql, hash: string): void {
  sql.run('INSERT OR IGNORE INTO admin_tokens (token_hash, created_at) VALUES (?, ?)', [hash, new Date().toISOString()]);
}

export function appendAudit(sql: Sql, actor: string, action: string, target: string): void {
  sql.run('INSERT INTO audit_log (at, actor, action, target) VALUES (?, ?, ?, ?)', [new Date().toISOString(), actor, action, target]);
}

export const listAudit = (sql: Sql, limit: number): AuditEntry[] =>
  sql.all<AuditEntry>('SELECT at, actor, action, target FROM audit_log ORDER BY id DESC LIMIT ?', [limit]);
