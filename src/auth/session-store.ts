import session from 'express-session';

import type { Db } from '../db/database.js';
import { unavailable } from '../errors.js';
import type { Logger } from '../logger.js';

type Callback = (err?: unknown) => void;

const TOUCH_WRITE_STEP_MS = 60_000;

// express-session hands store errors to the error handler; marked this way they become a 503 page that says
// the database is not answering, instead of a generic 500.
const databaseDown = (err: unknown) => unavailable('database', err);

/**
 * express-session store over the app's own database (SQLite or PostgreSQL), so sessions survive restarts and
 * are shared by every instance. One implementation serves both databases through Kysely, with the table made
 * by the same migrations as the rest of the schema. The user id is kept in its own column so that all of a
 * user's sessions can be ended at once (password reset, deletion).
 */
export class DatabaseSessionStore extends session.Store {
  private pruneTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Db,
    private readonly options: { defaultTtlMs: number; pruneIntervalMs?: number; log?: Logger },
  ) {
    super();
    if (options.pruneIntervalMs) {
      this.pruneTimer = setInterval(() => void this.pruneExpired(), options.pruneIntervalMs);
      this.pruneTimer.unref();
    }
  }

  override get(sid: string, callback: (err: unknown, session?: session.SessionData | null) => void): void {
    this.db
      .selectFrom('sessions')
      .select(['data', 'expires_at'])
      .where('sid', '=', sid)
      .executeTakeFirst()
      .then((row) => {
        if (!row || row.expires_at <= new Date().toISOString()) return callback(null, null);
        callback(null, JSON.parse(row.data) as session.SessionData);
      }, (err) => callback(databaseDown(err)));
  }

  override set(sid: string, data: session.SessionData, callback?: Callback): void {
    const row = {
      sid,
      data: JSON.stringify(data),
      user_id: data.userId ?? null,
      expires_at: this.expiryOf(data),
    };
    this.db
      .insertInto('sessions')
      .values(row)
      .onConflict((conflict) =>
        conflict.column('sid').doUpdateSet({ data: row.data, user_id: row.user_id, expires_at: row.expires_at }),
      )
      .execute()
      .then(() => callback?.(), (err) => callback?.(databaseDown(err)));
  }

  /**
   * Pushes the expiry forward, but writes only when it moves by more than TOUCH_WRITE_STEP_MS. With a
   * rolling cookie every request touches the session, including each Range request of a playing video, and
   * an idle timeout counted in minutes does not need a database write for each of them.
   */
  override touch(sid: string, data: session.SessionData, callback?: Callback): void {
    const expiresAt = this.expiryOf(data);
    const writeIfBefore = new Date(Date.parse(expiresAt) - TOUCH_WRITE_STEP_MS).toISOString();
    this.db
      .updateTable('sessions')
      .set({ expires_at: expiresAt })
      .where('sid', '=', sid)
      .where('expires_at', '<', writeIfBefore)
      .execute()
      .then(() => callback?.(), (err) => callback?.(databaseDown(err)));
  }

  override destroy(sid: string, callback?: Callback): void {
    this.db
      .deleteFrom('sessions')
      .where('sid', '=', sid)
      .execute()
      .then(() => callback?.(), (err) => callback?.(databaseDown(err)));
  }

  /** Ends every session of one user; returns how many there were. */
  async destroyUserSessions(userId: string): Promise<number> {
    const result = await this.db.deleteFrom('sessions').where('user_id', '=', userId).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async pruneExpired(now = new Date()): Promise<number> {
    try {
      const result = await this.db.deleteFrom('sessions').where('expires_at', '<=', now.toISOString()).executeTakeFirst();
      return Number(result.numDeletedRows);
    } catch (err) {
      this.options.log?.error({ err }, 'pruning expired sessions failed');
      return 0;
    }
  }

  close(): void {
    if (this.pruneTimer) clearInterval(this.pruneTimer);
  }

  private expiryOf(data: session.SessionData): string {
    const expires = data.cookie?.expires;
    const at = expires ? new Date(expires).getTime() : Date.now() + this.options.defaultTtlMs;
    return new Date(at).toISOString();
  }
}
