import { createHash } from 'node:crypto';
import os from 'node:os';

/*
 * Test runs pick their database with REELGATE_TEST_DB: "sqlite" (the default: a file in each test's
 * DATA_DIR) or "postgres" (a fresh schema per DATA_DIR, in a database of the run's own on the server at
 * TEST_DATABASE_URL). Each DATA_DIR
 * maps to one schema, so a test that restarts the app on the same DATA_DIR finds its data again, as a real
 * restart would.
 */

const SCHEMA_PREFIX = 'rgtest_';

/** The PostgreSQL server and database that tests are given (TEST_DATABASE_URL), before a run adds its own. */
export function baseDatabaseUrl(): string {
  return process.env.TEST_DATABASE_URL ?? `postgres://${os.userInfo().username}@127.0.0.1:5432/test`;
}

/** The database of this test run, created by the global setup and dropped when the run ends. */
export function runDatabaseName(): string {
  return `reelgate_test_${process.env.REELGATE_TEST_RUN ?? 'local'}`;
}

/**
 * Each run gets a database of its own: Kysely's migrator lists the tables of every schema in its database,
 * so a schema that another run drops at that moment made the listing fail. Inside the run, each DATA_DIR
 * maps to one schema.
 */
export function testDatabaseUrl(): string {
  const url = new URL(baseDatabaseUrl());
  url.pathname = `/${runDatabaseName()}`;
  return url.toString();
}

export function usesPostgres(): boolean {
  return process.env.REELGATE_TEST_DB === 'postgres';
}

export function schemaFor(dataDir: string): string {
  return `${SCHEMA_PREFIX}${createHash('sha256').update(dataDir).digest('hex').slice(0, 16)}`;
}

/** Environment variables that point the app at the test database for this DATA_DIR ({} for SQLite). */
export async function databaseEnvFor(dataDir: string): Promise<Record<string, string>> {
  return usesPostgres() ? postgresEnvFor(dataDir) : {};
}

/** Creates (if needed) the PostgreSQL schema for this DATA_DIR and returns the variables that select it. */
export async function postgresEnvFor(dataDir: string): Promise<Record<string, string>> {
  const schema = schemaFor(dataDir);
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString: testDatabaseUrl() });
  await client.connect();
  try {
    await client.query(`create schema if not exists ${schema}`);
  } finally {
    await client.end();
  }
  const url = new URL(testDatabaseUrl());
  url.searchParams.set('options', `-c search_path=${schema}`);
  return { DATABASE_URL: url.toString(), DATABASE_POOL_SIZE: '4' };
}

/** Returns whether the test PostgreSQL accepts a connection. Tests that need it in every project use this to skip. */
export async function postgresAvailable(): Promise<boolean> {
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString: testDatabaseUrl(), connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}
