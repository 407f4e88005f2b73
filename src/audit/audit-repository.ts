import type { Selectable } from 'kysely';

import type { Db } from '../db/database.js';
import type { AuditLogTable } from '../db/schema.js';

/*
 * The audit log is append-only: this module offers inserts and reads, and triggers from migration 002 reject
 * UPDATE and DELETE in the database as well.
 */

export const AUDIT_ACTIONS = {
  'user.create': 'User created',
  'user.delete': 'User deleted',
  'user.password_reset': 'Password reset',
  'user.role': 'Admin role changed',
  'subscription.set': 'Subscription changed',
  'video.create': 'Video added',
  'video.update': 'Video edited',
  'video.publish': 'Video published or unpublished',
  'video.delete': 'Video deleted',
} as const;

export type AuditAction = keyof typeof AUDIT_ACTIONS;

export const isAuditAction = (value: string): value is AuditAction => Object.hasOwn(AUDIT_ACTIONS, value);

export interface NewAuditEntry {
  at: Date;
  actorId: string | null;
  actorEmail: string;
  action: AuditAction;
  targetType: 'user' | 'video';
  targetId: string;
  targetLabel: string;
  before: unknown;
  after: unknown;
}

export interface AuditEntry {
  id: number;
  at: string;
  actorId: string | null;
  actorEmail: string;
  action: string;
  targetType: string;
  targetId: string;
  targetLabel: string | null;
  before: string | null;
  after: string | null;
}

export interface AuditQuery {
  /** An email: entries made by that user or about that user. */
  userEmail?: string | undefined;
  action?: AuditAction | undefined;
  /** Keyset cursor: only entries with a smaller id (older). */
  beforeId?: number | undefined;
  limit: number;
}

export async function appendAuditEntry(db: Db, entry: NewAuditEntry): Promise<void> {
  await db
    .insertInto('audit_log')
    .values({
      at: entry.at.toISOString(),
      actor_id: entry.actorId,
      actor_email: entry.actorEmail,
      action: entry.action,
      target_type: entry.targetType,
      target_id: entry.targetId,
      target_label: entry.targetLabel,
      before_json: toJson(entry.before),
      after_json: toJson(entry.after),
    })
    .execute();
}

/** Newest first. */
export async function listAuditEntries(db: Db, query: AuditQuery): Promise<AuditEntry[]> {
  let select = db.selectFrom('audit_log').selectAll().orderBy('id', 'desc').limit(query.limit);

  if (query.userEmail) {
    const email = query.userEmail;
    select = select.where((eb) => eb.or([eb('actor_email', '=', email), eb('target_label', '=', email)]));
  }
  if (query.action) select = select.where('action', '=', query.action);
  if (query.beforeId !== undefined) select = select.where('id', '<', query.beforeId);

  const rows = await select.execute();
  return rows.map(toAuditEntry);
}

function toJson(value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}

function toAuditEntry(row: Selectable<AuditLogTable>): AuditEntry {
  return {
    id: Number(row.id),
    at: row.at,
    actorId: row.actor_id,
    actorEmail: row.actor_email,
    action: row.action,
    targetType: row.target_type,
    targetId: row.target_id,
    targetLabel: row.target_label,
    before: row.before_json,
    after: row.after_json,
  };
}
