import { Router, type Request, type Response } from 'express';

import { HttpError } from '../../errors.js';
import type { AppContext } from '../../http/context.js';
import { requireAdmin } from '../../auth/require-login.js';
import { DuplicateEmailError, countUsersMatching, listUsersPage } from '../../users/user-repository.js';
import { adminActorOf } from '../http/admin-actor.js';
import { setFlash } from '../http/flash.js';
import { lastDayOf } from '../http/form-fields.js';
import { problemsByField } from '../http/input.js';
import { ensureUserExists, targetUserOf } from './ensure-user.js';
import { subscriptionView } from './subscription-state.js';
import {
  createUserAsAdmin,
  deleteUserAsAdmin,
  resetPasswordAsAdmin,
  setAdminRoleAsAdmin,
  setSubscriptionAsAdmin,
} from './user-admin-service.js';
import { USERS_PER_PAGE, grantForm, newUserForm, passwordForm, revokeForm, roleForm, userIdParams, userListQuery } from './user-validators.js';

const UNPROCESSABLE_422 = 422;

export function userAdminRouter(context: AppContext): Router {
  const router = Router();
  const ensureUser = [requireAdmin, userIdParams.validate, ensureUserExists(context)];

  router.get('/admin/users', requireAdmin, userListQuery.validate, listUsersController(context));
  router.get('/admin/users/new', requireAdmin, newUserController);
  router.post('/admin/users', requireAdmin, createUserController(context));
  router.get('/admin/users/:id', ...ensureUser, showUserController(context));
  router.post('/admin/users/:id/subscription/grant', ...ensureUser, grantForm.validate, grantController(context));
  router.post('/admin/users/:id/subscription/revoke', ...ensureUser, revokeForm.validate, revokeController(context));
  router.post('/admin/users/:id/password', ...ensureUser, resetPasswordController(context));
  router.post('/admin/users/:id/role', ...ensureUser, roleForm.validate, roleController(context));
  router.get('/admin/users/:id/delete', ...ensureUser, confirmDeleteController);
  router.post('/admin/users/:id/delete', ...ensureUser, deleteUserController(context));

  return router;
}

function listUsersController(context: AppContext) {
  return async (req: Request, res: Response) => {
    const { q, after, before } = userListQuery.of(res);
    const search = q || undefined;

    // One extra row shows whether another page follows, without a second query.
    const rows = await listUsersPage(context.db, { search, afterEmail: after, beforeEmail: before, limit: USERS_PER_PAGE + 1 });
    const hasMore = rows.length > USERS_PER_PAGE;
    const backwards = before !== undefined && after === undefined;
    const users = backwards ? rows.slice(-USERS_PER_PAGE) : rows.slice(0, USERS_PER_PAGE);
    const total = await countUsersMatching(context.db, search);

    const now = context.now();
    res.render('admin/users', {
      title: 'Users',
      search: q ?? '',
      total,
      rows: users.map((user) => ({ user, subscription: subscriptionView(user.subscription, now) })),
      nextAfter: (backwards || hasMore) && users.length > 0 ? users.at(-1)!.email : null,
      previousBefore: (backwards ? hasMore : after !== undefined) && users.length > 0 ? users[0]!.email : null,
      returnTo: currentAdminPath(req),
    });
  };
}

function newUserController(_req: Request, res: Response): void {
  res.render('admin/user-new', { title: 'New user', values: { email: '', admin: false }, problems: {} });
}

function createUserController(context: AppContext) {
  return async (req: Request, res: Response) => {
    const parsed = newUserForm.safeParse(req.body);
    const values = { email: String(req.body?.email ?? ''), admin: req.body?.admin === 'on' };
    if (!parsed.success) {
      context.log.debug({ fields: Object.keys(problemsByField(parsed.error)) }, 'new user form rejected');
      return res.status(UNPROCESSABLE_422).render('admin/user-new', { title: 'New user', values, problems: problemsByField(parsed.error) });
    }

    try {
      const { user, generatedPassword } = await createUserAsAdmin(context, adminActorOf(res), {
        email: parsed.data.email,
        password: parsed.data.password,
        isAdmin: parsed.data.admin,
      });
      if (generatedPassword) return renderOneTimePassword(res, user.email, generatedPassword, `/admin/users/${user.id}`);

      setFlash(req, 'info', `Created ${user.email}.`);
      res.redirect(303, `/admin/users/${user.id}`);
    } catch (err) {
      if (!(err instanceof DuplicateEmailError)) throw err;
      const problems = { email: `A user with the email ${parsed.data.email} already exists. Search for it in the user list.` };
      res.status(UNPROCESSABLE_422).render('admin/user-new', { title: 'New user', values, problems });
    }
  };
}

function showUserController(context: AppContext) {
  return (_req: Request, res: Response) => {
    const { targetUser, targetSubscription } = targetUserOf(res);
    res.render('admin/user', {
      title: targetUser.email,
      target: targetUser,
      subscription: subscriptionView(targetSubscription, context.now()),
      isSelf: targetUser.id === adminActorOf(res).id,
      problems: {},
    });
  };
}

function grantController(context: AppContext) {
  return async (req: Request, res: Response) => {
    const { targetUser } = targetUserOf(res);
    const { endsOn, returnTo } = grantForm.of(res);

    const subscription = await setSubscriptionAsAdmin(context, adminActorOf(res), targetUser, { active: true, endsAt: endsOn });

    const lastDay = lastDayOf(subscription.endsAt);
    const until = lastDay ? ` until the end of ${lastDay} (UTC)` : ' with no end date';
    const over = subscription.endsAt && subscription.endsAt.getTime() <= context.now().getTime() ? ' That day has passed, so access is already over.' : '';
    setFlash(req, 'info', `Granted a subscription to ${targetUser.email}${until}.${over}`);
    res.redirect(303, returnTo);
  };
}

function revokeController(context: AppContext) {
  return async (req: Request, res: Response) => {
    const { targetUser, targetSubscription } = targetUserOf(res);
    const { returnTo } = revokeForm.of(res);

    await setSubscriptionAsAdmin(context, adminActorOf(res), targetUser, { active: false, endsAt: targetSubscription?.endsAt ?? null });

    setFlash(req, 'info', `Revoked the subscription of ${targetUser.email}. Their next playback request is refused.`);
    res.redirect(303, returnTo);
  };
}

function resetPasswordController(context: AppContext) {
  return async (req: Request, res: Response) => {
    const { targetUser, targetSubscription } = targetUserOf(res);
    const parsed = passwordForm.safeParse(req.body);
    if (!parsed.success) {
      return res.status(UNPROCESSABLE_422).render('admin/user', {
        title: targetUser.email,
        target: targetUser,
        subscription: subscriptionView(targetSubscription, context.now()),
        isSelf: targetUser.id === adminActorOf(res).id,
        problems: problemsByField(parsed.error),
      });
    }

    const { generatedPassword, sessionsEnded } = await resetPasswordAsAdmin(context, adminActorOf(res), targetUser, parsed.data.password);
    if (generatedPassword) return renderOneTimePassword(res, targetUser.email, generatedPassword, `/admin/users/${targetUser.id}`);

    setFlash(req, 'info', `Set a new password for ${targetUser.email} and ended ${sessionsEnded} ${sessionsEnded === 1 ? 'session' : 'sessions'}.`);
    res.redirect(303, `/admin/users/${targetUser.id}`);
  };
}

function roleController(context: AppContext) {
  return async (req: Request, res: Response) => {
    const { targetUser } = targetUserOf(res);
    const { admin } = roleForm.of(res);

    try {
      await setAdminRoleAsAdmin(context, adminActorOf(res), targetUser, admin);
    } catch (err) {
      if (!(err instanceof HttpError) || err.code !== 'LAST_ADMIN') throw err;
      context.log.debug({ userId: targetUser.id }, 'rejected removing the last admin');
      setFlash(req, 'error', err.message);
      return res.redirect(303, `/admin/users/${targetUser.id}`);
    }

    setFlash(req, 'info', admin ? `${targetUser.email} is now an admin.` : `${targetUser.email} is no longer an admin.`);
    res.redirect(303, `/admin/users/${targetUser.id}`);
  };
}

function confirmDeleteController(_req: Request, res: Response): void {
  const { targetUser } = targetUserOf(res);
  res.render('admin/user-delete', { title: `Delete ${targetUser.email}`, target: targetUser, isSelf: targetUser.id === adminActorOf(res).id });
}

function deleteUserController(context: AppContext) {
  return async (req: Request, res: Response) => {
    const { targetUser } = targetUserOf(res);

    try {
      await deleteUserAsAdmin(context, adminActorOf(res), targetUser);
    } catch (err) {
      if (!(err instanceof HttpError) || err.code !== 'CANNOT_DELETE_SELF') throw err;
      setFlash(req, 'error', err.message);
      return res.redirect(303, `/admin/users/${targetUser.id}`);
    }

    setFlash(req, 'info', `Deleted ${targetUser.email} and ended their sessions.`);
    res.redirect(303, '/admin/users');
  };
}

/**
 * Shows a generated password in the response to the POST itself instead of redirecting, so the password is
 * never stored anywhere (a flash message would keep it in the sessions table until the next page).
 * no-store keeps it out of the browser cache and the back button.
 */
function renderOneTimePassword(res: Response, email: string, password: string, continueTo: string): void {
  res.setHeader('Cache-Control', 'no-store');
  res.render('admin/password-shown', { title: 'Password created', email, password, continueTo });
}

function currentAdminPath(req: Request): string {
  return req.originalUrl.length <= 1000 ? req.originalUrl : '/admin/users';
}
