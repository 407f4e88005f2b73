import pg from 'pg';

import { SCHEMA_PREFIX, testDatabaseUrl } from './test-database.js';

/** Drops the schemas that the PostgreSQL test project created, before and after the run. */
export async function setup(): Promise<() => Promise<void>> {
  await dropTestSchemas();
  return dropTestSchemas;
}

async function dropTestSchemas(): Promise<void> {
  const client = new pg.Client({ connectionString: testDatabaseUrl() });
  await client.connect();
  try {
    const { rows } = await client.query<{ nspname: string }>('select nspname from pg_namespace where nspname like $1', [`${SCHEMA_PREFIX}%`]);
    for (const { nspname } of rows) await client.query(`drop schema if exists ${nspname} cascade`);
  } finally {
    await client.end();
  }
}
