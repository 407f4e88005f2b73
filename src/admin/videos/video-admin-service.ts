import { Readable } from 'node:stream';

import { recordChange, type AuditActor } from '../../audit/audit-recorder.js';
import type { AppContext } from '../../http/context.js';
import { hlsKeyPrefix } from '../../transcode/hls-keys.js';
import { enqueueTranscodeJob } from '../../transcode/job-repository.js';
import {
  deleteVideoRecord,
  insertVideo,
  setVideoPoster,
  setVideoPublished,
  updateVideoDetails,
  type NewVideo,
  type Video,
} from '../../videos/video-repository.js';
import { POSTER_EXTENSIONS, type PosterType } from './image-probe.js';

type Admin = Exclude<AuditActor, 'cli'>;

/* As with users, each change commits together with its audit entry. */

export async function registerVideoAsAdmin(context: AppContext, admin: Admin, input: NewVideo & { id: string }): Promise<Video> {
  const now = context.now();

  const video = await context.db.transaction().execute(async (trx) => {
    const inserted = await insertVideo(trx, { ...input, now });
    await enqueueTranscodeJob(trx, inserted.id, now);
    await recordChange(trx, admin, {
      action: 'video.create',
      target: { type: 'video', id: inserted.id, label: inserted.title },
      before: null,
      after: { title: inserted.title, storageKey: inserted.storageKey, sizeBytes: inserted.sizeBytes, published: inserted.published },
    }, now);
    return inserted;
  });

  context.log.info({ videoId: video.id, adminId: admin.id, sizeBytes: video.sizeBytes }, 'video registered by admin');
  return video;
}

export async function updateVideoAsAdmin(
  context: AppContext,
  admin: Admin,
  video: Video,
  details: { title: string; description: string },
): Promise<void> {
  if (details.title === video.title && details.description === video.description) return;
  const now = context.now();

  await context.db.transaction().execute(async (trx) => {
    await updateVideoDetails(trx, video.id, { ...details, now });
    await recordChange(trx, admin, {
      action: 'video.update',
      target: { type: 'video', id: video.id, label: details.title },
      before: { title: video.title, description: video.description },
      after: details,
    }, now);
  });

  context.log.info({ videoId: video.id, adminId: admin.id }, 'video details changed by admin');
}

export async function setPublishedAsAdmin(context: AppContext, admin: Admin, video: Video, published: boolean): Promise<void> {
  if (video.published === published) return;
  const now = context.now();

  await context.db.transaction().execute(async (trx) => {
    await setVideoPublished(trx, video.id, published, now);
    await recordChange(trx, admin, {
      action: 'video.publish',
      target: { type: 'video', id: video.id, label: video.title },
      before: { published: video.published },
      after: { published },
    }, now);
  });

  context.log.info({ videoId: video.id, adminId: admin.id, published }, 'video publication changed by admin');
}

/**
 * Stores a new poster under a fresh key, points the video at it, then removes the old one, so the catalogue
 * never shows a missing poster and a browser never gets a cached old image for the new key.
 */
export async function replacePosterAsAdmin(
  context: AppContext,
  admin: Admin,
  video: Video,
  poster: { body: Buffer; type: PosterType; key: string },
): Promise<void> {
  await context.storage.write(poster.key, Readable.from([poster.body]), { contentType: poster.type, size: poster.body.length });
  const now = context.now();

  try {
    await context.db.transaction().execute(async (trx) => {
      await setVideoPoster(trx, video.id, poster.key, now);
      await recordChange(trx, admin, {
        action: 'video.update',
        target: { type: 'video', id: video.id, label: video.title },
        before: { posterKey: video.posterKey },
        after: { posterKey: poster.key },
      }, now);
    });
  } catch (err) {
    await context.storage.delete(poster.key).catch(() => undefined);
    throw err;
  }

  if (video.posterKey) await deleteObjectOrLog(context, video.posterKey, video.id);
  context.log.info({ videoId: video.id, adminId: admin.id, posterKey: poster.key }, 'poster replaced by admin');
}

export function posterKeyFor(videoId: string, type: PosterType, uniqueSuffix: string): string {
  return `posters/${videoId}-${uniqueSuffix}${POSTER_EXTENSIONS[type]}`;
}

/**
 * Deletes the record first, then the stored objects. A failed object delete leaves an orphan in storage
 * (logged, and listed on the import page when under the import prefix), never a record without its file.
 */
export async function deleteVideoAsAdmin(context: AppContext, admin: Admin, video: Video): Promise<{ objectsLeft: number }> {
  const now = context.now();

  await context.db.transaction().execute(async (trx) => {
    await deleteVideoRecord(trx, video.id);
    await recordChange(trx, admin, {
      action: 'video.delete',
      target: { type: 'video', id: video.id, label: video.title },
      before: { title: video.title, storageKey: video.storageKey, posterKey: video.posterKey, published: video.published },
      after: null,
    }, now);
  });

  let objectsLeft = 0;
  const hlsKeys = await listHlsKeys(context, video.id);
  for (const key of [video.storageKey, video.posterKey, ...hlsKeys]) {
    if (key && !(await deleteObjectOrLog(context, key, video.id))) objectsLeft += 1;
  }

  context.log.info({ videoId: video.id, adminId: admin.id, objectsLeft }, 'video deleted by admin');
  return { objectsLeft };
}

// Rendition count times segment count: a three-hour film in three renditions has about 8,100 segments.
const MAX_HLS_OBJECTS = 50_000;

async function listHlsKeys(context: AppContext, videoId: string): Promise<string[]> {
  try {
    const objects = await context.storage.list(hlsKeyPrefix(videoId), { limit: MAX_HLS_OBJECTS });
    return objects.map((object) => object.key);
  } catch (err) {
    context.log.error({ err, videoId }, 'listing the HLS renditions of a deleted video failed; they stay in storage');
    return [];
  }
}

async function deleteObjectOrLog(context: AppContext, key: string, videoId: string): Promise<boolean> {
  try {
    await context.storage.delete(key);
    return true;
  } catch (err) {
    context.log.error({ err, videoId, key }, 'deleting a stored object failed');
    return false;
  }
}
