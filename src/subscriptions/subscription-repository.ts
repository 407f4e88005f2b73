import type { Db } from '../db/database.js';
import type { SubscriptionsTable } from '../db/schema.js';

export interface Subscription {
  userId: string;
  active: boolean;
  /** Access ends at this instant; null means no end date. */
  endsAt: Date | null;
  updatedAt: string;
}

export async function findSubscription(db: Db, userId: string): Promise<Subscription | undefined> {
  const row = await db.selectFrom('subscriptions').selectAll().where('user_id', '=', userId).executeTakeFirst();
  return row && toSubscription(row);
}

/** Creates or replaces the user's subscription. */
export async function setSubscription(
  db: Db,
  input: { userId: string; active: boolean; endsAt: Date | null; now?: Date },
): Promise<Subscription> {
  const row: SubscriptionsTable = {
    user_id: input.userId,
    active: input.active ? 1 : 0,
    ends_at: input.endsAt ? input.endsAt.toISOString() : null,
    updated_at: (input.now ?? new Date()).toISOString(),
  };
  await db
    .insertInto('subscriptions')
    .values(row)
    .onConflict((conflict) =>
      conflict.column('user_id').doUpdateSet({ active: row.active, ends_at: row.ends_at, updated_at: row.updated_at }),
    )
    .execute();
  return toSubscription(row);
}

function toSubscription(row: SubscriptionsTable): Subscription {
  return {
    userId: row.user_id,
    active: row.active === 1,
    endsAt: row.ends_at ? new Date(row.ends_at) : null,
    updatedAt: row.updated_at,
  };
}
