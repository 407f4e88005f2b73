import { sql } from 'kysely';
import type { ClientRateLimitInfo, Options, Store } from 'express-rate-limit';

import type { Db } from '../db/database.js';

/**
 * express-rate-limit counters in the app's database, so every instance behind a load balancer counts the
 * same login attempts. One atomic upsert per hit starts a new window when the old one has ended.
 * `prefix` keeps several limiters (per IP, per account) apart in the one table.
 */
export class DatabaseRateLimitStore implements Store {
  readonly localKeys = false;
  private windowMs = 60_000;
  private pruneTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Db,
    readonly prefix: string,
  ) {}

  init(options: Options): void {
    this.windowMs = options.windowMs;
    // Ended windows are harmless (increment restarts them) but would pile up; sweep once per window.
    this.pruneTimer = setInterval(() => void this.pruneExpired().catch(() => undefined), this.windowMs);
    this.pruneTimer.unref();
  }

  shutdown(): void {
    clearInterval(this.pruneTimer);
  }

  async get(key: string): Promise<ClientRateLimitInfo | undefined> {
    const row = await this.db
      .selectFrom('rate_limit_hits')
      .select(['hits', 'reset_at'])
      .where('key', '=', this.keyOf(key))
      .where('reset_at', '>', new Date().toISOString())
      .executeTakeFirst();
    return row && { totalHits: Number(row.hits), resetTime: new Date(row.reset_at) };
  }

  async increment(key: string): Promise<ClientRateLimitInfo> {
    const now = new Date().toISOString();
    const resetAt = new Date(Date.now() + this.windowMs).toISOString();
    const row = await this.db
      .insertInto('rate_limit_hits')
      .values({ key: this.keyOf(key), hits: 1, reset_at: resetAt })
      .onConflict((conflict) =>
        conflict.column('key').doUpdateSet({
          hits: sql<number>`case when rate_limit_hits.reset_at <= ${now} then 1 else rate_limit_hits.hits + 1 end`,
          reset_at: sql<string>`case when rate_limit_hits.reset_at <= ${now} then ${resetAt} else rate_limit_hits.reset_at end`,
        }),
      )
      .returning(['hits', 'reset_at'])
      .executeTakeFirstOrThrow();
    return { totalHits: Number(row.hits), resetTime: new Date(row.reset_at) };
  }

  async decrement(key: string): Promise<void> {
    await this.db
      .updateTable('rate_limit_hits')
      .set({ hits: sql<number>`case when hits > 0 then hits - 1 else 0 end` })
      .where('key', '=', this.keyOf(key))
      .execute();
  }

  async resetKey(key: string): Promise<void> {
    await this.db.deleteFrom('rate_limit_hits').where('key', '=', this.keyOf(key)).execute();
  }

  /** Deletes the windows that have ended. */
  async pruneExpired(now = new Date()): Promise<void> {
    await this.db.deleteFrom('rate_limit_hits').where('reset_at', '<=', now.toISOString()).execute();
  }

  private keyOf(key: string): string {
    return `${this.prefix}${key}`;
  }
}
