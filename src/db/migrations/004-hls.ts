import type { Migration } from 'kysely';

/*
 * HLS renditions: where a video's master playlist is once transcoding has finished, and the queue of
 * transcode jobs that every app instance polls. A job row is claimed by one instance at a time (locked_by)
 * and kept alive by heartbeat_at, so a job whose instance died can be told apart from one still running.
 */
export const hlsSchema: Migration = {
  async up(db) {
    await db.schema.alterTable('videos').addColumn('hls_master_key', 'text').execute();

    await db.schema
      .createTable('transcode_jobs')
      .addColumn('id', 'text', (column) => column.primaryKey())
      .addColumn('video_id', 'text', (column) => column.notNull())
      .addColumn('status', 'text', (column) => column.notNull())
      .addColumn('attempts', 'integer', (column) => column.notNull())
      .addColumn('progress', 'integer', (column) => column.notNull())
      .addColumn('error', 'text')
      .addColumn('locked_by', 'text')
      .addColumn('locked_at', 'text')
      .addColumn('heartbeat_at', 'text')
      .addColumn('created_at', 'text', (column) => column.notNull())
      .addColumn('updated_at', 'text', (column) => column.notNull())
      .execute();
    await db.schema.createIndex('transcode_jobs_status').on('transcode_jobs').columns(['status', 'created_at']).execute();
    await db.schema.createIndex('transcode_jobs_video_id').on('transcode_jobs').columns(['video_id', 'created_at']).execute();
  },
  async down(db) {
    await db.schema.dropTable('transcode_jobs').execute();
    await db.schema.alterTable('videos').dropColumn('hls_master_key').execute();
  },
};
