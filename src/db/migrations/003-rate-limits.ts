import type { Migration } from 'kysely';

/** Login rate-limit counters, kept in the database so that every instance counts the same attempts. */
export const rateLimitSchema: Migration = {
  async up(db) {
    await db.schema
      .createTable('rate_limit_hits')
      .addColumn('key', 'text', (column) => column.primaryKey())
      .addColumn('hits', 'integer', (column) => column.notNull())
      .addColumn('reset_at', 'text', (column) => column.notNull())
      .execute();
    await db.schema.createIndex('rate_limit_hits_reset_at').on('rate_limit_hits').column('reset_at').execute();
  },
  async down(db) {
    await db.schema.dropTable('rate_limit_hits').execute();
  },
};
