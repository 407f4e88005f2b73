import { sql } from 'kysely';

import type { Db } from '../db/database.js';
import type { UsersTable } from '../db/schema.js';
import { newId } from '../ids.js';

export interface User {
  id: string;
  email: string;
  isAdmin: boolean;
  createdAt: string;
  lastLoginAt: string | null;
}

export interface UserWithHash extends User {
  passwordHash: string;
}

export class DuplicateEmailError extends Error {
  constructor(email: string) {
    super(`A user with the email ${email} already exists.`);
    this.name = 'DuplicateEmailError';
  }
}

/** Emails compare case-insensitively; they are stored trimmed and lower-cased. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export async function findUserById(db: Db, id: string): Promise<User | undefined> {
  const row = await db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toUser(row);
}

export async function findUserByEmail(db: Db, email: string): Promise<UserWithHash | undefined> {
  const row = await db.selectFrom('users').selectAll().where('email', '=', normalizeEmail(email)).executeTakeFirst();
  return row && { ...toUser(row), passwordHash: row.password_hash };
}

export async function createUser(
  db: Db,
  input: { email: string; passwordHash: string; isAdmin: boolean; now?: Date },
): Promise<User> {
  const email = normalizeEmail(input.email);
  const existing = await db.selectFrom('users').select('id').where('email', '=', email).executeTakeFirst();
  if (existing) throw new DuplicateEmailError(email);

  const row: UsersTable = {
    id: newId(),
    email,
    password_hash: input.passwordHash,
    is_admin: input.isAdmin ? 1 : 0,
    created_at: (input.now ?? new Date()).toISOString(),
    last_login_at: null,
  };
  await db.insertInto('users').values(row).execute();
  return toUser(row);
}

export async function recordLogin(db: Db, userId: string, now = new Date()): Promise<void> {
  await db.updateTable('users').set({ last_login_at: now.toISOString() }).where('id', '=', userId).execute();
}

export async function countUsers(db: Db): Promise<number> {
  const row = await db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow();
  return Number(row.count);
}

function toUser(row: UsersTable): User {
  return {
    id: row.id,
    email: row.email,
    isAdmin: row.is_admin === 1,
    createdAt: row.created_at,
    lastLoginAt: row.last_login_at,
  };
}

/** One row of the admin user table: the user with their subscription, if any. */
export interface UserListRow extends User {
  subscription: { active: boolean; endsAt: string | null } | null;
}

export interface UserPageQuery {
  /** Part of an email; matched case-insensitively anywhere in the address. */
  search?: string | undefined;
  /** Keyset cursors: emails sort uniquely, so a page starts right after or ends right before one email. */
  afterEmail?: string | undefined;
  beforeEmail?: string | undefined;
  limit: number;
}

/**
 * Lists users in email order, one page at a time. Walking the unique email index with a keyset cursor keeps
 * every page as fast as the first one, where OFFSET would scan all the rows it skips.
 */
export async function listUsersPage(db: Db, query: UserPageQuery): Promise<UserListRow[]> {
  const backwards = query.beforeEmail !== undefined && query.afterEmail === undefined;
  let select = db
    .selectFrom('users')
    .leftJoin('subscriptions', 'subscriptions.user_id', 'users.id')
    .selectAll('users')
    .select(['subscriptions.active as subscription_active', 'subscriptions.ends_at as subscription_ends_at'])
    .orderBy('users.email', backwards ? 'desc' : 'asc')
    .limit(query.limit);

  if (query.search) select = select.where(sql<boolean>`users.email like ${containsPattern(query.search)} escape '\\'`);
  if (query.afterEmail !== undefined) select = select.where('users.email', '>', query.afterEmail);
  if (backwards) select = select.where('users.email', '<', query.beforeEmail!);

  const rows = await select.execute();
  const ordered = backwards ? rows.reverse() : rows;
  return ordered.map((row) => ({
    ...toUser(row),
    subscription:
      row.subscription_active === null ? null : { active: row.subscription_active === 1, endsAt: row.subscription_ends_at },
  }));
}

export async function countUsersMatching(db: Db, search: string | undefined): Promise<number> {
  let select = db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('count'));
  if (search) select = select.where(sql<boolean>`email like ${containsPattern(search)} escape '\\'`);
  const row = await select.executeTakeFirstOrThrow();
  return Number(row.count);
}

export async function countAdmins(db: Db): Promise<number> {
  const row = await db
    .selectFrom('users')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('is_admin', '=', 1)
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

export async function setAdminRole(db: Db, userId: string, isAdmin: boolean): Promise<void> {
  await db.updateTable('users').set({ is_admin: isAdmin ? 1 : 0 }).where('id', '=', userId).execute();
}

export async function setPasswordHash(db: Db, userId: string, passwordHash: string): Promise<void> {
  await db.updateTable('users').set({ password_hash: passwordHash }).where('id', '=', userId).execute();
}

/** Deletes the user and their subscription. SQLite cascades only with foreign_keys on, so it is explicit. */
export async function deleteUser(db: Db, userId: string): Promise<void> {
  await db.deleteFrom('subscriptions').where('user_id', '=', userId).execute();
  await db.deleteFrom('users').where('id', '=', userId).execute();
}

/** Builds a LIKE pattern for "contains `text`", with LIKE's own wildcards in `text` matched literally. */
function containsPattern(text: string): string {
  const escaped = normalizeEmail(text).replace(/[\\%_]/g, (character) => `\\${character}`);
  return `%${escaped}%`;
}
