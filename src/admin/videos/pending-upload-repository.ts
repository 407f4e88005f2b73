import type { Db } from '../../db/database.js';
import type { PendingUploadsTable } from '../../db/schema.js';

export interface PendingUpload {
  id: string;
  storageKey: string;
  multipartUploadId: string | null;
  title: string;
  contentType: string;
  sizeBytes: number;
  createdBy: string;
  createdAt: string;
}

export async function insertPendingUpload(db: Db, upload: PendingUpload): Promise<void> {
  await db
    .insertInto('pending_uploads')
    .values({
      id: upload.id,
      storage_key: upload.storageKey,
      multipart_upload_id: upload.multipartUploadId,
      title: upload.title,
      content_type: upload.contentType,
      size_bytes: upload.sizeBytes,
      created_by: upload.createdBy,
      created_at: upload.createdAt,
    })
    .execute();
}

export async function findPendingUpload(db: Db, id: string): Promise<PendingUpload | undefined> {
  const row = await db.selectFrom('pending_uploads').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toPendingUpload(row);
}

export async function deletePendingUpload(db: Db, id: string): Promise<void> {
  await db.deleteFrom('pending_uploads').where('id', '=', id).execute();
}

export async function listPendingUploadsBefore(db: Db, createdBefore: Date, limit: number): Promise<PendingUpload[]> {
  const rows = await db
    .selectFrom('pending_uploads')
    .selectAll()
    .where('created_at', '<', createdBefore.toISOString())
    .orderBy('created_at')
    .limit(limit)
    .execute();
  return rows.map(toPendingUpload);
}

function toPendingUpload(row: PendingUploadsTable): PendingUpload {
  return {
    id: row.id,
    storageKey: row.storage_key,
    multipartUploadId: row.multipart_upload_id,
    title: row.title,
    contentType: row.content_type,
    sizeBytes: Number(row.size_bytes),
    createdBy: row.created_by,
    createdAt: row.created_at,
  };
}
