import fs from 'node:fs';
import path from 'node:path';

import SQLite from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql, type MigrationProvider } from 'kysely';
import pg from 'pg';

import type { Dialect } from './dialect.js';
import { migrationsFor } from './migrations/index.js';
import type { Database } from './schema.js';

export type Db = Kysely<Database>;

export interface OpenedDatabase {
  db: Db;
  dialect: Dialect;
  close(): Promise<void>;
}

// PostgreSQL returns int8 (bigint) as a string to avoid precision loss; sizes here stay far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

/** Opens PostgreSQL when `databaseUrl` is set, else the SQLite file under `dataDir`. */
export function openDatabase(options: { databaseUrl?: string | undefined; dataDir: string; poolSize?: number }): OpenedDatabase {
  if (options.databaseUrl) {
    const pool = new pg.Pool({ connectionString: options.databaseUrl, max: options.poolSize ?? 10 });
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return { db, dialect: 'postgres', close: () => db.destroy() };
  }

  fs.mkdirSync(options.dataDir, { recursive: true });
  const file = new SQLite(path.join(options.dataDir, 'reelgate.sqlite'));
  // WAL lets the CLI write while the server reads; busy_timeout makes a writer wait instead of failing.
  file.pragma('journal_mode = WAL');
  file.pragma('busy_timeout = 5000');
  file.pragma('foreign_keys = ON');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: file }) });
  return { db, dialect: 'sqlite', close: () => db.destroy() };
}

/**
 * Runs every pending migration and returns the names it ran; throws with the failing migration's error.
 * On PostgreSQL, Kysely holds an advisory lock meanwhile, so instances that start together take turns.
 */
export async function migrateToLatest(opened: { db: Db; dialect: Dialect }): Promise<string[]> {
  const migrator = await migratorFor(opened);
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((result) => result.status === 'Success').map((result) => result.migrationName);
}

/** Names of the migrations not yet run; empty when the schema is current. */
export async function pendingMigrations(opened: { db: Db; dialect: Dialect }): Promise<string[]> {
  const migrator = await migratorFor(opened);
  const migrations = await migrator.getMigrations();
  return migrations.filter((migration) => migration.executedAt === undefined).map((migration) => migration.name);
}

async function migratorFor(opened: { db: Db; dialect: Dialect }): Promise<Migrator> {
  const provider: MigrationProvider = { getMigrations: async () => migrationsFor(opened.dialect) };
  // Kysely looks for its bookkeeping tables in every schema. Pinning them to the connection's own schema
  // keeps apart two installations (or test runs) that share one database through search_path.
  const migrationTableSchema = opened.dialect === 'postgres' ? await currentSchema(opened.db) : undefined;
  return new Migrator({ db: opened.db, provider, migrationTableSchema });
}

export async function currentSchema(db: Db): Promise<string> {
  const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db);
  const schema = rows[0]?.schema;
  if (!schema) throw new Error('PostgreSQL has no current schema: check the search_path of the DATABASE_URL user');
  return schema;
}
