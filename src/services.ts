import type { Config } from './config.js';
import { migrateToLatest, openDatabase, type OpenedDatabase } from './db/database.js';
import { loadSecrets, type Secrets } from './secrets.js';
import { createStorage } from './storage/create-storage.js';
import type { Storage } from './storage/storage.js';

export interface Services {
  database: OpenedDatabase;
  storage: Storage;
  secrets: Secrets;
  /** Names of the migrations this start ran (empty when the schema was already current). */
  migrationsRun: string[];
  close(): Promise<void>;
}

/** Opens the database (running pending migrations) and the storage; shared by the server and the CLI. */
export async function openServices(config: Config): Promise<Services> {
  const secrets = loadSecrets(config);
  const database = openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: config.databasePoolSize });
  let migrationsRun: string[];
  try {
    migrationsRun = await migrateToLatest(database);
  } catch (err) {
    await database.close();
    throw err;
  }
  const storage = createStorage(config);

  return {
    database,
    storage,
    secrets,
    migrationsRun,
    close: async () => {
      await Promise.allSettled([storage.close(), database.close()]);
    },
  };
}
