import type { Db } from '../db/database.js';
import { appendAuditEntry, type AuditAction } from './audit-repository.js';

/** The author of a change: a logged-in admin, or the command line, which has no user of its own. */
export type AuditActor = { id: string; email: string } | 'cli';

export const CLI_ACTOR = 'cli' as const;

export interface AuditedChange {
  action: AuditAction;
  target: { type: 'user' | 'video'; id: string; label: string };
  before: unknown;
  after: unknown;
}

/** Appends one entry for a change that has just been made. */
export async function recordChange(db: Db, actor: AuditActor, change: AuditedChange, now: Date): Promise<void> {
  await appendAuditEntry(db, {
    at: now,
    actorId: actor === CLI_ACTOR ? null : actor.id,
    actorEmail: actor === CLI_ACTOR ? CLI_ACTOR : actor.email,
    action: change.action,
    targetType: change.target.type,
    targetId: change.target.id,
    targetLabel: change.target.label,
    before: change.before,
    after: change.after,
  });
}
