import { Router, type Request, type Response } from 'express';
import { z } from 'zod';

import { loginRateLimits } from './login-rate-limit.js';
import { DatabaseRateLimitStore } from './rate-limit-store.js';
import { MAX_PASSWORD_LENGTH, dummyPasswordHash, verifyPassword } from './passwords.js';
import { safeReturnPath } from './return-path.js';
import { destroySession, regenerateSession, saveSession } from './session-promises.js';
import { SESSION_COOKIE_NAME } from './session-middleware.js';
import type { AppContext } from '../http/context.js';
import { currentUserOf } from '../http/locals.js';
import { findUserByEmail, recordLogin } from '../users/user-repository.js';

const UNAUTHORIZED_401 = 401;
const FAILED_LOGIN_MESSAGE = 'Wrong email or password.';

const loginForm = z.object({
  email: z.string().trim().min(1).max(320),
  password: z.string().min(1).max(MAX_PASSWORD_LENGTH),
  next: z.string().optional(),
});

export function authRouter(context: AppContext): Router {
  const router = Router();
  router.get('/login', showLoginController);
  // Counters live in the database, so every instance counts the same attempts and a restart forgets none.
  const limits = loginRateLimits(context, { createStore: (name) => new DatabaseRateLimitStore(context.db, `login-${name}:`) });
  router.post('/login', ...limits, loginController(context));
  router.post('/logout', logoutController(context));
  return router;
}

function showLoginController(req: Request, res: Response): void {
  const next = safeReturnPath(req.query.next);
  if (currentUserOf(res)) return res.redirect(303, next);
  res.render('login', { next, email: '', error: null });
}

function loginController(context: AppContext) {
  return async (req: Request, res: Response) => {
    const parsed = loginForm.safeParse(req.body);
    const next = safeReturnPath(parsed.success ? parsed.data.next : req.body?.next);
    if (!parsed.success) {
      return res.status(UNAUTHORIZED_401).render('login', { next, email: '', error: 'Enter your email and password.' });
    }

    const user = await findUserByEmail(context.db, parsed.data.email);
    // Hash even for an unknown email, so response time does not tell which accounts exist.
    const passwordHash = user?.passwordHash ?? (await dummyPasswordHash());
    const passwordMatches = await verifyPassword(parsed.data.password, passwordHash);
    if (!user || !passwordMatches) {
      context.log.info({ reason: user ? 'wrong-password' : 'unknown-email' }, 'login failed');
      return res.status(UNAUTHORIZED_401).render('login', { next, email: parsed.data.email, error: FAILED_LOGIN_MESSAGE });
    }

    // A new session id at login prevents session fixation: an id planted before login never gains rights.
    await regenerateSession(req);
    req.session.userId = user.id;
    req.session.loginAt = context.now().getTime();
    await recordLogin(context.db, user.id, context.now());
    // Saved before the redirect, so the next request (possibly to another instance) finds the session.
    await saveSession(req);

    context.log.info({ userId: user.id }, 'login succeeded');
    res.redirect(303, next);
  };
}

function logoutController(context: AppContext) {
  return async (req: Request, res: Response) => {
    const userId = req.session.userId;
    await destroySession(req);
    res.clearCookie(SESSION_COOKIE_NAME, { path: '/' });
    if (userId) context.log.info({ userId }, 'logout');
    res.redirect(303, '/login');
  };
}
