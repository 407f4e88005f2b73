import pg from 'pg';

import { runSchemaPrefix, testDatabaseUrl } from './test-database.js';

/** Drops the schemas that this test run created, when it ends. */
export function setup(): () => Promise<void> {
  return dropTestSchemas;
}

async function dropTestSchemas(): Promise<void> {
  const client = new pg.Client({ connectionString: testDatabaseUrl() });
  await client.connect();
  try {
    const { rows } = await client.query<{ nspname: string }>('select nspname from pg_namespace where nspname like $1', [`${runSchemaPrefix()}%`]);
    for (const { nspname } of rows) await client.query(`drop schema if exists ${nspname} cascade`);
  } finally {
    await client.end();
  }
}
