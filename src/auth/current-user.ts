import type { NextFunction, Request, Response } from 'express';

import type { AppContext } from '../http/context.js';
import type { ReelgateLocals } from '../http/locals.js';
import { unavailable } from '../errors.js';
import { findUserById } from '../users/user-repository.js';

/**
 * Loads the logged-in user from the database on every request, so a role change or a deleted account takes
 * effect on the next request rather than at the next login.
 */
export function loadCurrentUser(context: AppContext) {
  return async (req: Request, res: Response, next: NextFunction) => {
    const userId = req.session?.userId;
    if (!userId) return next();

    let user;
    try {
      user = await findUserById(context.db, userId);
    } catch (err) {
      throw unavailable('database', err);
    }

    if (user) {
      (res.locals as ReelgateLocals).currentUser = user;
    } else {
      delete req.session.userId;
    }
    next();
  };
}
