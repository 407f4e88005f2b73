import { newId } from '../../ids.js';
import type { AppContext } from '../../http/context.js';
import type { UploadedPart } from '../../storage/storage.js';
import { sniffVideoType } from '../../videos/media-probe.js';
import type { Video } from '../../videos/video-repository.js';
import type { AuditActor } from '../../audit/audit-recorder.js';
import { conflict } from '../http/admin-errors.js';
import { deletePendingUpload, insertPendingUpload, listPendingUploadsBefore, type PendingUpload } from './pending-upload-repository.js';
import { readHead, readStoredDuration } from './storage-probe.js';
import { notAVideo, tooLarge } from './streamed-upload.js';
import { videoKeyFor } from './upload-names.js';
import { registerVideoAsAdmin } from './video-admin-service.js';

type Admin = Exclude<AuditActor, 'cli'>;

/** Lifetime of each presigned upload URL; a part must start uploading within it. */
export const UPLOAD_URL_TTL_SECONDS = 3600;

/** S3 requires parts of at least 5 MiB (except the last) and allows at most 10,000 of them. */
const MIN_PART_BYTES = 8 * 1024 * 1024;
const MAX_PARTS = 10_000;

/** Direct uploads that have not completed after this long are aborted by the sweep. */
export const ABANDONED_AFTER_MS = 24 * 60 * 60 * 1000;

export type DirectUploadPlan =
  | { uploadId: string; mode: 'single'; url: string; contentType: string }
  | { uploadId: string; mode: 'multipart'; partSize: number; partCount: number };

/**
 * Starts a browser upload straight to storage: one presigned PUT below the multipart threshold, else a
 * multipart upload whose part URLs the browser requests in batches. The pending record lets the sweep
 * abort the upload if the browser never finishes it.
 */
export async function startDirectUpload(
  context: AppContext,
  admin: Admin,
  input: { title: string; fileName: string; size: number; contentType: string },
): Promise<DirectUploadPlan> {
  if (context.storage.kind !== 's3') {
    throw conflict('DIRECT_UPLOAD_UNAVAILABLE', 'This site stores videos on local disk, so uploads go through the app. Reload the page.');
  }
  const id = newId();
  const storageKey = videoKeyFor(id, input.fileName);
  const multipart = input.size >= context.config.multipartThresholdBytes;
  const multipartUploadId = multipart ? await context.storage.createMultipartUpload(storageKey, { contentType: input.contentType }) : null;

  await insertPendingUpload(context.db, {
    id,
    storageKey,
    multipartUploadId,
    title: input.title,
    contentType: input.contentType,
    sizeBytes: input.size,
    createdBy: admin.id,
    createdAt: context.now().toISOString(),
  });
  context.log.info({ uploadId: id, adminId: admin.id, sizeBytes: input.size, multipart }, 'direct upload started');

  if (!multipart) {
    const url = await context.storage.presignWrite(storageKey, { expiresInSeconds: UPLOAD_URL_TTL_SECONDS, contentType: input.contentType });
    return { uploadId: id, mode: 'single', url: url!, contentType: input.contentType };
  }
  const partSize = partSizeFor(input.size);
  return { uploadId: id, mode: 'multipart', partSize, partCount: Math.ceil(input.size / partSize) };
}

export async function presignPartUrls(context: AppContext, upload: PendingUpload, partNumbers: number[]): Promise<Record<number, string>> {
  if (!upload.multipartUploadId) throw conflict('NOT_MULTIPART', 'This upload is a single PUT and has no parts.');

  const partCount = Math.ceil(upload.sizeBytes / partSizeFor(upload.sizeBytes));
  const urls: Record<number, string> = {};
  for (const partNumber of partNumbers) {
    if (partNumber > partCount) throw conflict('PART_OUT_OF_RANGE', `Part ${partNumber} is beyond the last part (${partCount}) of this upload.`);
    const url = await context.storage.presignUploadPart(upload.storageKey, upload.multipartUploadId, partNumber, { expiresInSeconds: UPLOAD_URL_TTL_SECONDS });
    urls[partNumber] = url!;
  }
  return urls;
}

/**
 * Completes the upload, then checks the stored object as the streamed upload does: the size limit and the
 * first bytes (one ranged read). An object that fails is deleted, so nothing unchecked stays in storage.
 */
export async function completeDirectUpload(context: AppContext, admin: Admin, upload: PendingUpload, parts: UploadedPart[]): Promise<Video> {
  if (upload.multipartUploadId) {
    await context.storage.completeMultipartUpload(upload.storageKey, upload.multipartUploadId, parts);
  }

  const info = await context.storage.stat(upload.storageKey);
  if (!info) throw conflict('UPLOAD_NOT_FOUND', 'The file did not arrive in storage. Upload it again.');

  const contentType = info.size <= context.config.maxUploadBytes ? sniffVideoType(await readHead(context.storage, upload.storageKey, info.size)) : null;
  if (!contentType) {
    await context.storage.delete(upload.storageKey);
    await deletePendingUpload(context.db, upload.id);
    context.log.warn({ uploadId: upload.id, adminId: admin.id, sizeBytes: info.size }, 'direct upload rejected after arrival and deleted');
    throw info.size > context.config.maxUploadBytes ? tooLarge(context.config.maxUploadBytes) : notAVideo();
  }

  const durationSeconds = await readStoredDuration(context.storage, upload.storageKey, contentType, info.size).catch((err: unknown) => {
    context.log.warn({ err, uploadId: upload.id }, 'reading the duration of an upload failed');
    return null;
  });
  const video = await registerVideoAsAdmin(context, admin, {
    id: upload.id,
    title: upload.title,
    description: '',
    storageKey: upload.storageKey,
    contentType,
    sizeBytes: info.size,
    durationSeconds,
    posterKey: null,
    published: false,
  });
  await deletePendingUpload(context.db, upload.id);
  return video;
}

export async function abortDirectUpload(context: AppContext, upload: PendingUpload): Promise<void> {
  if (upload.multipartUploadId) {
    await context.storage.abortMultipartUpload(upload.storageKey, upload.multipartUploadId);
  } else {
    // A single PUT may have finished before the abort; the object is not registered, so it goes.
    await context.storage.delete(upload.storageKey);
  }
  await deletePendingUpload(context.db, upload.id);
}

/** Aborts direct uploads started more than a day ago that were never completed; returns how many. */
export async function sweepAbandonedUploads(context: AppContext): Promise<number> {
  const cutoff = new Date(context.now().getTime() - ABANDONED_AFTER_MS);
  const abandoned = await listPendingUploadsBefore(context.db, cutoff, 100);

  let swept = 0;
  for (const upload of abandoned) {
    try {
      await abortDirectUpload(context, upload);
      swept += 1;
    } catch (err) {
      context.log.error({ err, uploadId: upload.id }, 'aborting an abandoned upload failed');
    }
  }
  if (swept > 0) context.log.info({ swept }, 'aborted abandoned direct uploads');
  return swept;
}

function partSizeFor(size: number): number {
  return Math.max(MIN_PART_BYTES, Math.ceil(size / MAX_PARTS));
}
