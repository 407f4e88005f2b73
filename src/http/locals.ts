import type { Response } from 'express';

import type { User } from '../users/user-repository.js';

/** The typed values that middleware puts on res.locals for later steps and views. */
export interface ReelgateLocals {
  currentUser?: User;
  csrfToken?: () => string;
}

export function currentUserOf(res: Response): User | undefined {
  return (res.locals as ReelgateLocals).currentUser;
}
