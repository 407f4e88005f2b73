import type { Response } from 'express';

import type { AuditActor } from '../../audit/audit-recorder.js';
import { currentUserOf } from '../../http/locals.js';

/** Returns the logged-in admin as the actor of an audited change. requireAdmin must have run before. */
export function adminActorOf(res: Response): Exclude<AuditActor, 'cli'> {
  const user = currentUserOf(res);
  if (!user?.isAdmin) throw new Error('requireAdmin must run before this step');
  return { id: user.id, email: user.email };
}
