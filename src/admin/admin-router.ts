import { Router } from 'express';

import { requireAdmin } from '../auth/require-login.js';
import type { AppContext } from '../http/context.js';
import { auditAdminRouter } from './audit/audit-routes.js';
import { takeFlash } from './http/flash.js';
import { userAdminRouter } from './users/user-routes.js';
import { videoAdminRouter } from './videos/video-routes.js';

/** Builds the admin console. Every route checks the admin role itself, so none depends on the order of mounting. */
export function adminRouter(context: AppContext): Router {
  const router = Router();
  router.use(['/admin', '/api/admin'], takeFlash);

  router.get('/admin', requireAdmin, (_req, res) => res.redirect(303, '/admin/users'));
  router.use(userAdminRouter(context));
  router.use(videoAdminRouter(context));
  router.use(auditAdminRouter(context));

  return router;
}
