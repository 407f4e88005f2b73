import { sql, type Kysely, type Migration } from 'kysely';

import type { Dialect } from '../dialect.js';

/*
 * What the admin console needs: a label on audit entries (the target's email or title, kept after the target
 * is deleted), indexes for the audit filters, a table of direct uploads that have not been registered yet,
 * and triggers that make audit_log append-only in the database itself, not only in the code.
 */

export function adminSchema(dialect: Dialect): Migration {
  return { up: (db) => up(db, dialect), down: (db) => down(db, dialect) };
}

async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  await db.schema.alterTable('audit_log').addColumn('target_label', 'text').execute();
  await db.schema.createIndex('audit_log_actor_email').on('audit_log').columns(['actor_email', 'at']).execute();
  await db.schema.createIndex('audit_log_target_label').on('audit_log').columns(['target_label', 'at']).execute();
  await db.schema.createIndex('audit_log_action').on('audit_log').columns(['action', 'at']).execute();

  await db.schema
    .createTable('pending_uploads')
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('storage_key', 'text', (column) => column.notNull().unique())
    .addColumn('multipart_upload_id', 'text')
    .addColumn('title', 'text', (column) => column.notNull())
    .addColumn('content_type', 'text', (column) => column.notNull())
    .addColumn('size_bytes', 'bigint', (column) => column.notNull())
    .addColumn('created_by', 'text', (column) => column.notNull())
    .addColumn('created_at', 'text', (column) => column.notNull())
    .execute();
  await db.schema.createIndex('pending_uploads_created_at').on('pending_uploads').column('created_at').execute();

  if (dialect === 'postgres') {
    await createPostgresAppendOnlyTriggers(db);
  } else {
    await createSqliteAppendOnlyTriggers(db);
  }
}

async function createSqliteAppendOnlyTriggers(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END`.execute(db);
  await sql`CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END`.execute(db);
}

async function createPostgresAppendOnlyTriggers(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE FUNCTION audit_log_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'audit_log is append-only'; END; $$`.execute(db);
  await sql`CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_reject_change()`.execute(db);
  // Row triggers do not fire on TRUNCATE, so it needs a statement trigger of its own.
  await sql`CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_reject_change()`.execute(db);
}

async function down(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  if (dialect === 'postgres') {
    await sql`DROP TRIGGER audit_log_no_truncate ON audit_log`.execute(db);
    await sql`DROP TRIGGER audit_log_no_change ON audit_log`.execute(db);
    await sql`DROP FUNCTION audit_log_reject_change()`.execute(db);
  } else {
    await sql`DROP TRIGGER audit_log_no_delete`.execute(db);
    await sql`DROP TRIGGER audit_log_no_update`.execute(db);
  }
  await db.schema.dropTable('pending_uploads').execute();
  for (const index of ['audit_log_action', 'audit_log_target_label', 'audit_log_actor_email']) {
    await db.schema.dropIndex(index).execute();
  }
  await db.schema.alterTable('audit_log').dropColumn('target_label').execute();
}
