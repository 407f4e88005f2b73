import { Router, type Request, type Response } from 'express';
import { z } from 'zod';

import { AUDIT_ACTIONS, isAuditAction, listAuditEntries, type AuditAction } from '../../audit/audit-repository.js';
import { requireAdmin } from '../../auth/require-login.js';
import type { AppContext } from '../../http/context.js';
import { defineInput } from '../http/input.js';
import { describeAuditValue } from './describe-audit-value.js';

const ENTRIES_PER_PAGE = 100;

const auditQuery = defineInput(
  'query',
  z.object({
    user: z.string().trim().toLowerCase().max(320, { error: 'The user filter is too long: use at most 320 characters.' }).optional(),
    action: z
      .string()
      .optional()
      .refine((action) => !action || isAuditAction(action), { error: 'Unknown kind of change: pick one from the list.' })
      .transform((action) => (action && isAuditAction(action) ? action : undefined)),
    before: z.coerce.number({ error: 'The page cursor is invalid: go back to the first page.' }).int().positive().optional(),
  }),
);

export function auditAdminRouter(context: AppContext): Router {
  const router = Router();
  router.get('/admin/audit', requireAdmin, auditQuery.validate, auditLogController(context));
  return router;
}

function auditLogController(context: AppContext) {
  return async (_req: Request, res: Response) => {
    const { user, action, before } = auditQuery.of(res);
    const filters: { user: string; action: AuditAction | '' } = { user: user ?? '', action: action ?? '' };

    const rows = await listAuditEntries(context.db, {
      userEmail: filters.user || undefined,
      action: filters.action || undefined,
      beforeId: before,
      limit: ENTRIES_PER_PAGE + 1,
    });
    const entries = rows.slice(0, ENTRIES_PER_PAGE).map((entry) => ({
      ...entry,
      before: describeAuditValue(entry.before),
      after: describeAuditValue(entry.after),
    }));
    const olderBefore = rows.length > ENTRIES_PER_PAGE ? entries.at(-1)!.id : null;

    res.render('admin/audit', {
      title: 'Audit log',
      entries,
      filters,
      actions: AUDIT_ACTIONS,
      olderQuery: olderBefore === null ? null : new URLSearchParams({ ...filters, before: String(olderBefore) }).toString(),
      isFirstPage: before === undefined,
      firstQuery: new URLSearchParams(filters).toString(),
    });
  };
}
