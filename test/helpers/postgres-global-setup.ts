import pg from 'pg';

import { baseDatabaseUrl, runDatabaseName } from './test-database.js';

/** Creates this run's own database before the tests and drops it, with every schema in it, after them. */
export async function setup(): Promise<() => Promise<void>> {
  await onServer(async (client) => {
    await client.query(`drop database if exists ${runDatabaseName()} with (force)`);
    await client.query(`create database ${runDatabaseName()}`);
  });
  return () => onServer((client) => client.query(`drop database if exists ${runDatabaseName()} with (force)`).then(() => undefined));
}

async function onServer(work: (client: pg.Client) => Promise<void>): Promise<void> {
  const client = new pg.Client({ connectionString: baseDatabaseUrl() });
  await client.connect();
  try {
    await work(client);
  } finally {
    await client.end();
  }
}
