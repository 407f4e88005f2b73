import type { Config } from '../config.js';
import type { Db } from '../db/database.js';
import type { Dialect } from '../db/dialect.js';
import type { Logger } from '../logger.js';
import type { Secrets } from '../secrets.js';
import type { Storage } from '../storage/storage.js';
import type { DatabaseSessionStore } from '../auth/session-store.js';
import type { Services } from '../services.js';

/** Everything the routes need, built once at start by server.ts (or by a test). */
export interface AppContext {
  config: Config;
  db: Db;
  dialect: Dialect;
  storage: Storage;
  log: Logger;
  secrets: Secrets;
  sessionStore: DatabaseSessionStore;
  /** The clock; tests replace it to move past expiry times. */
  now: () => Date;
}

/** Assembles the context from opened services; the server and the tests differ only in log, store and clock. */
export function buildAppContext(
  config: Config,
  services: Services,
  parts: { log: Logger; sessionStore: DatabaseSessionStore; now: () => Date },
): AppContext {
  return {
    config,
    db: services.database.db,
    dialect: services.database.dialect,
    storage: services.storage,
    secrets: services.secrets,
    ...parts,
  };
}
