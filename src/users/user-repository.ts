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
