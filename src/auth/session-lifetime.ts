import type { NextFunction, Request, Response } from 'express';

import type { AppContext } from '../http/context.js';
import { regenerateSession } from './session-promises.js';

/**
 * Ends a logged-in session once SESSION_MAX_HOURS have passed since login, however active it has been. The
 * rolling cookie only bounds idle time, so without this a stolen session cookie that is used regularly
 * would stay valid forever.
 *
 * The session is regenerated: its row is deleted from the store, and the request continues with a fresh,
 * anonymous session, so requireLogin sends the user to the login page.
 */
export function endExpiredSessions(context: AppContext) {
  return async (req: Request, _res: Response, next: NextFunction) => {
    const userId = req.session?.userId;
    if (userId === undefined) return next();

    if (isWithinMaxLifetime(req.session.loginAt, context)) return next();

    await regenerateSession(req);
    context.log.info({ userId }, 'session ended: maximum lifetime since login reached (SESSION_MAX_HOURS)');
    next();
  };
}

// A logged-in session without loginAt cannot show its age, so it is treated as expired.
function isWithinMaxLifetime(loginAt: number | undefined, context: AppContext): boolean {
  if (typeof loginAt !== 'number') return false;

  return context.now().getTime() - loginAt < context.config.sessionMaxMs;
}
