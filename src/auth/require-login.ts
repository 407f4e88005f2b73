import type { NextFunction, Request, Response } from 'express';

import { forbidden, notLoggedIn } from '../errors.js';
import { currentUserOf } from '../http/locals.js';
import { wantsJson } from '../http/wants-json.js';
import { safeReturnPath } from './return-path.js';

/** Pages send an anonymous visitor to the login page and back; API and media routes answer 401. */
export function requireLogin(req: Request, res: Response, next: NextFunction): void {
  if (currentUserOf(res)) return next();
  if (wantsJson(req) || req.method !== 'GET') throw notLoggedIn();

  const back = safeReturnPath(req.originalUrl);
  res.redirect(303, back === '/' ? '/login' : `/login?next=${encodeURIComponent(back)}`);
}

export function requireAdmin(req: Request, res: Response, next: NextFunction): void {
  const user = currentUserOf(res);
  if (!user) return requireLogin(req, res, next);
  if (!user.isAdmin) throw forbidden('ADMIN_ONLY', 'This page is for administrators only.');
  next();
}
