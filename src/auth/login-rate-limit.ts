import type { Request, RequestHandler, Response } from 'express';
import { rateLimit, type Store } from 'express-rate-limit';

import { TOO_MANY_REQUESTS_429 } from '../errors.js';
import type { AppContext } from '../http/context.js';
import { normalizeEmail } from '../users/user-repository.js';
import { safeReturnPath } from './return-path.js';

export const LOGIN_WINDOW_MS = 15 * 60_000;

const MAX_EMAIL_LENGTH = 320;

type LimiterName = 'ip' | 'account';

export interface LoginRateLimitOptions {
  /**
   * Makes the counter store of each limiter. Without it, each limiter counts in this process's memory
   * (express-rate-limit's MemoryStore), which is right for one instance. Several instances need a store
   * that they share, such as one kept in Redis or in the app's database.
   */
  createStore?: (name: LimiterName) => Store;
}

/**
 * Returns the two limiters for POST /login, the per-IP one first. The per-IP limiter counts every attempt,
 * so one address cannot try many accounts. The per-account limiter counts failed attempts only, keyed by
 * the normalised email, so a user who logs in successfully is never locked out by their own logins.
 */
export function loginRateLimits(context: AppContext, options: LoginRateLimitOptions = {}): RequestHandler[] {
  const { config } = context;

  const perIp = rateLimit({
    windowMs: LOGIN_WINDOW_MS,
    limit: config.loginMaxAttemptsPerIp,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    identifier: 'login-ip',
    store: options.createStore?.('ip'),
    handler: rejectLogin(context, 'ip'),
  });

  const perAccount = rateLimit({
    windowMs: LOGIN_WINDOW_MS,
    limit: config.loginMaxAttemptsPerAccount,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    identifier: 'login-account',
    store: options.createStore?.('account'),
    // A successful login returns 303, and express-rate-limit takes back the count of any status below 400.
    skipSuccessfulRequests: true,
    skip: (req) => accountKeyOf(req) === undefined,
    keyGenerator: (req) => accountKeyOf(req) ?? '',
    handler: rejectLogin(context, 'account'),
  });

  return [perIp, perAccount];
}

function accountKeyOf(req: Request): string | undefined {
  const email: unknown = req.body?.email;
  if (typeof email !== 'string') return undefined;

  const normalised = normalizeEmail(email);
  if (normalised === '' || normalised.length > MAX_EMAIL_LENGTH) return undefined;
  return `account:${normalised}`;
}

/**
 * Renders the login page again with status 429. express-rate-limit has already set Retry-After to the
 * seconds left in the window.
 */
function rejectLogin(context: AppContext, limiter: LimiterName) {
  return (req: Request, res: Response) => {
    const retryAfterSeconds = Number(res.getHeader('Retry-After')) || LOGIN_WINDOW_MS / 1000;
    const minutes = Math.max(1, Math.ceil(retryAfterSeconds / 60));

    // The email stays out of the log, as it does for a failed login.
    context.log.warn({ limiter, ip: req.ip }, 'login attempts over the rate limit');

    res.status(TOO_MANY_REQUESTS_429).render('login', {
      next: safeReturnPath(req.body?.next),
      email: '',
      error: `Too many login attempts. Wait ${minutes} ${minutes === 1 ? 'minute' : 'minutes'} and try again.`,
    });
  };
}
