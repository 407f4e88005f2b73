import { sql } from 'kysely';

import { recordChange, type AuditActor } from '../../audit/audit-recorder.js';
import { generatePassword, hashPassword } from '../../auth/passwords.js';
import type { Db } from '../../db/database.js';
import type { AppContext } from '../../http/context.js';
import { findSubscription, setSubscription, type Subscription } from '../../subscriptions/subscription-repository.js';
import { createUser, deleteUser, setAdminRole, setPasswordHash, type User } from '../../users/user-repository.js';
import { conflict } from '../http/admin-errors.js';

type Admin = Exclude<AuditActor, 'cli'>;

/*
 * Each change and its audit entry commit in one transaction, so the log never misses a change and never
 * records one that was rolled back. The grant route reads users and subscriptions fresh on every request,
 * so no cache needs clearing here.
 */

export async function createUserAsAdmin(
  context: AppContext,
  admin: Admin,
  input: { email: string; password: string | null; isAdmin: boolean },
): Promise<{ user: User; generatedPassword: string | null }> {
  const generatedPassword = input.password === null ? generatePassword() : null;
  const passwordHash = await hashPassword(input.password ?? generatedPassword!);
  const now = context.now();

  const user = await context.db.transaction().execute(async (trx) => {
    const created = await createUser(trx, { email: input.email, passwordHash, isAdmin: input.isAdmin, now });
    await recordChange(trx, admin, {
      action: 'user.create',
      target: { type: 'user', id: created.id, label: created.email },
      before: null,
      after: { email: created.email, isAdmin: created.isAdmin },
    }, now);
    return created;
  });

  context.log.info({ userId: user.id, adminId: admin.id, isAdmin: user.isAdmin }, 'user created by admin');
  return { user, generatedPassword };
}

export async function setSubscriptionAsAdmin(
  context: AppContext,
  admin: Admin,
  user: User,
  input: { active: boolean; endsAt: Date | null },
): Promise<Subscription> {
  const now = context.now();

  const subscription = await context.db.transaction().execute(async (trx) => {
    const before = await findSubscription(trx, user.id);
    const after = await setSubscription(trx, { userId: user.id, active: input.active, endsAt: input.endsAt, now });
    await recordChange(trx, admin, {
      action: 'subscription.set',
      target: { type: 'user', id: user.id, label: user.email },
      before: before ? subscriptionSummary(before) : null,
      after: subscriptionSummary(after),
    }, now);
    return after;
  });

  context.log.info({ userId: user.id, adminId: admin.id, active: subscription.active }, 'subscription changed by admin');
  return subscription;
}

/** Sets a new password and ends every session of the user, so an attacker holding one is logged out. */
export async function resetPasswordAsAdmin(
  context: AppContext,
  admin: Admin,
  user: User,
  password: string | null,
): Promise<{ generatedPassword: string | null; sessionsEnded: number }> {
  const generatedPassword = password === null ? generatePassword() : null;
  const passwordHash = await hashPassword(password ?? generatedPassword!);
  const now = context.now();

  await context.db.transaction().execute(async (trx) => {
    await setPasswordHash(trx, user.id, passwordHash);
    // The log records that the password changed, never the password or its hash.
    await recordChange(trx, admin, {
      action: 'user.password_reset',
      target: { type: 'user', id: user.id, label: user.email },
      before: null,
      after: { passwordChanged: true, generated: generatedPassword !== null },
    }, now);
  });
  const sessionsEnded = await context.sessionStore.destroyUserSessions(user.id);

  context.log.info({ userId: user.id, adminId: admin.id, sessionsEnded }, 'password reset by admin');
  return { generatedPassword, sessionsEnded };
}

/** Grants or removes the admin role. Removing it from the only admin is refused, so the site keeps one. */
export async function setAdminRoleAsAdmin(context: AppContext, admin: Admin, user: User, isAdmin: boolean): Promise<void> {
  if (user.isAdmin === isAdmin) return;
  const now = context.now();

  await context.db.transaction().execute(async (trx) => {
    if (!isAdmin) await removeAdminRoleUnlessLast(trx, user);
    else await setAdminRole(trx, user.id, true);

    await recordChange(trx, admin, {
      action: 'user.role',
      target: { type: 'user', id: user.id, label: user.email },
      before: { isAdmin: user.isAdmin },
      after: { isAdmin },
    }, now);
  });

  context.log.info({ userId: user.id, adminId: admin.id, isAdmin }, 'admin role changed');
}

/** Deletes a user and ends their sessions. An admin cannot delete their own account, which also keeps the last admin. */
export async function deleteUserAsAdmin(context: AppContext, admin: Admin, user: User): Promise<void> {
  if (user.id === admin.id) {
    throw conflict('CANNOT_DELETE_SELF', 'You cannot delete your own account. Ask another admin to do it.');
  }
  const now = context.now();

  await context.db.transaction().execute(async (trx) => {
    const subscription = await findSubscription(trx, user.id);
    await deleteUser(trx, user.id);
    await recordChange(trx, admin, {
      action: 'user.delete',
      target: { type: 'user', id: user.id, label: user.email },
      before: { email: user.email, isAdmin: user.isAdmin, subscription: subscription ? subscriptionSummary(subscription) : null },
      after: null,
    }, now);
  });
  const sessionsEnded = await context.sessionStore.destroyUserSessions(user.id);

  context.log.info({ userId: user.id, adminId: admin.id, sessionsEnded }, 'user deleted by admin');
}

/**
 * Removes the admin role with one conditional UPDATE that checks and changes at once, so two admins demoting
 * each other at the same moment cannot both succeed on SQLite, where writes are serialized.
 */
async function removeAdminRoleUnlessLast(db: Db, user: User): Promise<void> {
  const result = await db
    .updateTable('users')
    .set({ is_admin: 0 })
    .where('id', '=', user.id)
    .where(sql<boolean>`(select count(*) from users where is_admin = 1) > 1`)
    .executeTakeFirst();

  if (Number(result.numUpdatedRows) === 0) {
    throw conflict('LAST_ADMIN', `${user.email} is the only admin, so the role stays. Make another user an admin first.`);
  }
}

function subscriptionSummary(subscription: Subscription) {
  return { active: subscription.active, endsAt: subscription.endsAt ? subscription.endsAt.toISOString() : null };
}
