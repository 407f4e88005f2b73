import type { NextFunction, Request, Response } from 'express';

import { notFound, unavailable } from '../../errors.js';
import type { AppContext } from '../../http/context.js';
import { findSubscription, type Subscription } from '../../subscriptions/subscription-repository.js';
import { findUserById, type User } from '../../users/user-repository.js';
import { userIdParams } from './user-validators.js';

export interface TargetUserLocals {
  targetUser: User;
  targetSubscription: Subscription | undefined;
}

/** Loads the user named by :id and their subscription, or throws a 404 error. */
export function ensureUserExists(context: AppContext) {
  return async (_req: Request, res: Response, next: NextFunction) => {
    const { id } = userIdParams.of(res);

    let targetUser;
    let targetSubscription;
    try {
      targetUser = await findUserById(context.db, id);
      targetSubscription = targetUser ? await findSubscription(context.db, id) : undefined;
    } catch (err) {
      throw unavailable('database', err);
    }
    if (!targetUser) throw notFound('This user does not exist. They may have been deleted.');

    Object.assign(res.locals, { targetUser, targetSubscription } satisfies TargetUserLocals);
    next();
  };
}

export function targetUserOf(res: Response): TargetUserLocals {
  const locals = res.locals as Partial<TargetUserLocals>;
  if (!locals.targetUser) throw new Error('ensureUserExists must run before this step');
  return { targetUser: locals.targetUser, targetSubscription: locals.targetSubscription };
}
