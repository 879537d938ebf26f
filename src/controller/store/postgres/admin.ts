// Tables `admin_tokens` and `audit_log`.
import type { AuditEntry } from '../../../core/types.ts';
import type { Q } from './engine.ts';

export const hasAdminToken = async (q: Q, hash: string): Promise<boolean> =>
  (await q.get('SELECT 1 FROM admin_tokens WHERE token_hash = $1', [hash])) !== undefined;

export async function insertAdminToken(q: Q, hash: string): Promise<void> {
  await q.run('INSERT INTO admin_tokens (token_hash, created_at) VALUES ($1, $2) ON CONFLICT DO NOTHING', [hash, new Date().toISOString()]);
}

export async function appendAudit(q: Q, actor: string, action: string, target: string): Promise<void> {
  await q.run('INSERT INTO audit_log (at, actor, action, target) VALUES ($1, $2, $3, $4)', [new Date().toISOString(), actor, action, target]);
}

export const listAudit = (q: Q, limit: number): Promise<AuditEntry[]> =>
  q.all<AuditEntry>('SELECT at, actor, action, target FROM audit_log ORDER BY id DESC LIMIT $1', [limit]);
