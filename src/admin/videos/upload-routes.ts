import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';

import { requireAdmin } from '../../auth/require-login.js';
import { notFound } from '../../errors.js';
import type { AppContext } from '../../http/context.js';
import type { ReelgateLocals } from '../../http/locals.js';
import { adminActorOf } from '../http/admin-actor.js';
import { setFlash } from '../http/flash.js';
import { idField } from '../http/form-fields.js';
import { defineInput, rejectAsNotFound } from '../http/input.js';
import {
  abortDirectUpload,
  completeDirectUpload,
  presignPartUrls,
  startDirectUpload,
  sweepAbandonedUploads,
} from './direct-upload-service.js';
import { findPendingUpload, type PendingUpload } from './pending-upload-repository.js';
import { readStoredDuration } from './storage-probe.js';
import { receiveStreamedVideo, tooLarge } from './streamed-upload.js';
import { titleFromFileName } from './upload-names.js';
import { registerVideoAsAdmin } from './video-admin-service.js';

const CREATED_201 = 201;
const SWEEP_INTERVAL_MS = 60 * 60 * 1000;
const MAX_PART_URLS_PER_REQUEST = 100;

/** Extra bytes that a multipart/form-data body carries besides the file: boundaries, headers, the title. */
const FORM_OVERHEAD_BYTES = 64 * 1024;

export function uploadRoutes(context: AppContext): Router {
  const router = Router();
  const json = express.json({ limit: '1mb' });
  const ensureUpload = [requireAdmin, uploadIdParams.validate, ensurePendingUpload(context)];
  const sweepNow = hourlySweep(context);

  router.get('/admin/videos/upload', requireAdmin, sweepNow, uploadPageController(context));
  router.post('/api/admin/uploads/stream', requireAdmin, streamedUploadController(context));
  router.post('/api/admin/uploads', requireAdmin, sweepNow, json, newUploadBody.validate, startUploadController(context));
  router.post('/api/admin/uploads/:id/part-urls', ...ensureUpload, json, partUrlsBody.validate, partUrlsController(context));
  router.post('/api/admin/uploads/:id/complete', ...ensureUpload, json, completeBody.validate, completeUploadController(context));
  router.delete('/api/admin/uploads/:id', ...ensureUpload, abortUploadController(context));

  return router;
}

const uploadIdParams = defineInput('params', z.object({ id: idField }), rejectAsNotFound('upload'));

const newUploadBody = defineInput(
  'body',
  z.object({
    title: z.string().trim().max(200, { error: 'The title is too long: use at most 200 characters.' }),
    fileName: z.string().min(1, { error: 'The file has no name.' }).max(1000),
    size: z.number({ error: 'The file size is missing.' }).int().positive({ error: 'The file is empty.' }),
    contentType: z.string().regex(/^video\/[\w.+-]+$/, { error: 'This file is not a video. Upload an MP4, MOV, WebM or Ogg video file.' }),
  }),
);

const partUrlsBody = defineInput(
  'body',
  z.object({
    partNumbers: z
      .array(z.number().int().min(1).max(10_000), { error: 'partNumbers must be a list of part numbers.' })
      .min(1)
      .max(MAX_PART_URLS_PER_REQUEST, { error: `Ask for at most ${MAX_PART_URLS_PER_REQUEST} part URLs at a time.` }),
  }),
);

const completeBody = defineInput(
  'body',
  z.object({
    parts: z
      .array(z.object({ partNumber: z.number().int().min(1).max(10_000), etag: z.string().min(1).max(200) }))
      .max(10_000)
      .default([]),
  }),
);

function ensurePendingUpload(context: AppContext) {
  return async (_req: Request, res: Response, next: NextFunction) => {
    const upload = await findPendingUpload(context.db, uploadIdParams.of(res).id);
    if (!upload) throw notFound('This upload does not exist. It was completed, cancelled, or abandoned for over a day.');

    res.locals.pendingUpload = upload;
    next();
  };
}

function pendingUploadOf(res: Response): PendingUpload {
  const upload = res.locals.pendingUpload as PendingUpload | undefined;
  if (!upload) throw new Error('ensurePendingUpload must run before this step');
  return upload;
}

/**
 * Runs the sweep of abandoned uploads at most once an hour per process, piggybacking on upload traffic so
 * that no separate timer is needed. The sweep runs in the background; its failures are logged.
 */
function hourlySweep(context: AppContext) {
  let lastSweepAt = 0;
  return (_req: Request, _res: Response, next: NextFunction) => {
    const now = context.now().getTime();
    if (context.storage.kind === 's3' && now - lastSweepAt >= SWEEP_INTERVAL_MS) {
      lastSweepAt = now;
      sweepAbandonedUploads(context).catch((err: unknown) => context.log.error({ err }, 'sweeping abandoned uploads failed'));
    }
    next();
  };
}

function uploadPageController(context: AppContext) {
  return (_req: Request, res: Response) => {
    res.render('admin/video-upload', {
      title: 'Upload a video',
      mode: context.storage.kind === 's3' ? 'direct' : 'stream',
      maxBytes: context.config.maxUploadBytes,
      maxMb: Math.floor(context.config.maxUploadBytes / 1024 / 1024),
    });
  };
}

function streamedUploadController(context: AppContext) {
  return async (req: Request, res: Response) => {
    const declaredLength = Number(req.get('content-length'));
    if (Number.isFinite(declaredLength) && declaredLength > context.config.maxUploadBytes + FORM_OVERHEAD_BYTES) {
      // Rejected before reading the body; closing the connection stops the browser from sending the rest.
      res.setHeader('Connection', 'close');
      throw tooLarge(context.config.maxUploadBytes);
    }

    let streamed;
    try {
      streamed = await receiveStreamedVideo(req, { storage: context.storage, maxBytes: context.config.maxUploadBytes });
    } catch (err) {
      res.setHeader('Connection', 'close');
      context.log.debug({ err }, 'streamed upload rejected');
      throw err;
    }

    const video = await registerStoredVideo(context, res, streamed);
    setFlash(req, 'info', `Uploaded “${video.title}” as a draft. Check it, then publish it.`);
    res.status(CREATED_201).json({ videoId: video.id, location: `/admin/videos/${video.id}` });
  };
}

async function registerStoredVideo(context: AppContext, res: Response, streamed: { id: string; title: string; storageKey: string; contentType: string }) {
  try {
    const info = await context.storage.stat(streamed.storageKey);
    const sizeBytes = info?.size ?? 0;
    const durationSeconds = await readStoredDuration(context.storage, streamed.storageKey, streamed.contentType, sizeBytes).catch((err: unknown) => {
      context.log.warn({ err, videoId: streamed.id }, 'reading the duration of an upload failed');
      return null;
    });
    return await registerVideoAsAdmin(context, adminActorOf(res), {
      ...streamed,
      description: '',
      sizeBytes,
      durationSeconds,
      posterKey: null,
      published: false,
    });
  } catch (err) {
    await context.storage.delete(streamed.storageKey).catch(() => undefined);
    throw err;
  }
}

function startUploadController(context: AppContext) {
  return async (_req: Request, res: Response) => {
    const input = newUploadBody.of(res);
    if (input.size > context.config.maxUploadBytes) throw tooLarge(context.config.maxUploadBytes);
    const title = input.title === '' ? titleFromFileName(input.fileName) : input.title;

    const plan = await startDirectUpload(context, adminActorOf(res), { ...input, title });
    res.status(CREATED_201).json(plan);
  };
}

function partUrlsController(context: AppContext) {
  return async (_req: Request, res: Response) => {
    const urls = await presignPartUrls(context, pendingUploadOf(res), partUrlsBody.of(res).partNumbers);
    res.setHeader('Cache-Control', 'no-store');
    res.json({ urls });
  };
}

function completeUploadController(context: AppContext) {
  return async (req: Request, res: Response) => {
    const video = await completeDirectUpload(context, adminActorOf(res), pendingUploadOf(res), completeBody.of(res).parts);

    setFlash(req, 'info', `Uploaded “${video.title}” as a draft. Check it, then publish it.`);
    res.json({ videoId: video.id, location: `/admin/videos/${video.id}` });
  };
}

function abortUploadController(context: AppContext) {
  return async (_req: Request, res: Response) => {
    const upload = pendingUploadOf(res);
    await abortDirectUpload(context, upload);

    context.log.info({ uploadId: upload.id, adminId: (res.locals as ReelgateLocals).currentUser?.id }, 'direct upload aborted');
    res.json({ aborted: true });
  };
}
