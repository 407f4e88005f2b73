import type { Db } from '../db/database.js';
import type { VideosTable } from '../db/schema.js';
import { newId } from '../ids.js';

export interface Video {
  id: string;
  title: string;
  description: string;
  storageKey: string;
  contentType: string;
  sizeBytes: number;
  durationSeconds: number | null;
  posterKey: string | null;
  /** Storage key of the HLS master playlist once transcoding has finished, else null. */
  hlsMasterKey: string | null;
  published: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface NewVideo {
  id?: string;
  title: string;
  description: string;
  storageKey: string;
  contentType: string;
  sizeBytes: number;
  durationSeconds: number | null;
  posterKey: string | null;
  published?: boolean;
  now?: Date;
}

export async function findVideo(db: Db, id: string): Promise<Video | undefined> {
  const row = await db.selectFrom('videos').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toVideo(row);
}

/** Videos oldest first; `publishedOnly` hides drafts from the catalogue of non-admins. */
export async function listVideos(db: Db, options: { publishedOnly: boolean }): Promise<Video[]> {
  let query = db.selectFrom('videos').selectAll().orderBy('created_at').orderBy('id');
  if (options.publishedOnly) query = query.where('published', '=', 1);
  const rows = await query.execute();
  return rows.map(toVideo);
}

/** Returns one page of videos, oldest first, and the total count, for the catalogue. */
export async function listVideosPage(
  db: Db,
  options: { publishedOnly: boolean; limit: number; offset: number },
): Promise<{ videos: Video[]; total: number }> {
  let rows = db.selectFrom('videos').selectAll().orderBy('created_at').orderBy('id');
  let count = db.selectFrom('videos').select((eb) => eb.fn.countAll<number>().as('count'));
  if (options.publishedOnly) {
    rows = rows.where('published', '=', 1);
    count = count.where('published', '=', 1);
  }

  const [page, totalRow] = await Promise.all([rows.limit(options.limit).offset(options.offset).execute(), count.executeTakeFirstOrThrow()]);
  return { videos: page.map(toVideo), total: Number(totalRow.count) };
}

export async function insertVideo(db: Db, input: NewVideo): Promise<Video> {
  const now = (input.now ?? new Date()).toISOString();
  const row: VideosTable = {
    id: input.id ?? newId(),
    title: input.title,
    description: input.description,
    storage_key: input.storageKey,
    content_type: input.contentType,
    size_bytes: input.sizeBytes,
    duration_seconds: input.durationSeconds,
    poster_key: input.posterKey,
    hls_master_key: null,
    published: input.published === false ? 0 : 1,
    created_at: now,
    updated_at: now,
  };
  await db.insertInto('videos').values(row).execute();
  return toVideo(row);
}

export async function countVideos(db: Db): Promise<number> {
  const row = await db.selectFrom('videos').select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow();
  return Number(row.count);
}

function toVideo(row: VideosTable): Video {
  return {
    id: row.id,
    title: row.title,
    description: row.description,
    storageKey: row.storage_key,
    contentType: row.content_type,
    sizeBytes: Number(row.size_bytes),
    durationSeconds: row.duration_seconds === null ? null : Number(row.duration_seconds),
    posterKey: row.poster_key,
    hlsMasterKey: row.hls_master_key,
    published: row.published === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export async function updateVideoDetails(
  db: Db,
  id: string,
  details: { title: string; description: string; now: Date },
): Promise<void> {
  await db
    .updateTable('videos')
    .set({ title: details.title, description: details.description, updated_at: details.now.toISOString() })
    .where('id', '=', id)
    .execute();
}

export async function setVideoPublished(db: Db, id: string, published: boolean, now: Date): Promise<void> {
  await db
    .updateTable('videos')
    .set({ published: published ? 1 : 0, updated_at: now.toISOString() })
    .where('id', '=', id)
    .execute();
}

export async function setVideoPoster(db: Db, id: string, posterKey: string | null, now: Date): Promise<void> {
  await db.updateTable('videos').set({ poster_key: posterKey, updated_at: now.toISOString() }).where('id', '=', id).execute();
}

export async function setVideoHlsMaster(db: Db, id: string, hlsMasterKey: string | null, now: Date): Promise<void> {
  await db.updateTable('videos').set({ hls_master_key: hlsMasterKey, updated_at: now.toISOString() }).where('id', '=', id).execute();
}

export async function setVideoDuration(db: Db, id: string, durationSeconds: number, now: Date): Promise<void> {
  await db.updateTable('videos').set({ duration_seconds: durationSeconds, updated_at: now.toISOString() }).where('id', '=', id).execute();
}

export async function deleteVideoRecord(db: Db, id: string): Promise<void> {
  await db.deleteFrom('videos').where('id', '=', id).execute();
}

/** Returns the subset of `keys` that already belong to a video in the catalogue. */
export async function findRegisteredStorageKeys(db: Db, keys: string[]): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const rows = await db.selectFrom('videos').select('storage_key').where('storage_key', 'in', keys).execute();
  return new Set(rows.map((row) => row.storage_key));
}
