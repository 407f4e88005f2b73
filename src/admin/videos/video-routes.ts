import { randomBytes } from 'node:crypto';

import { Router, type Request, type Response } from 'express';

import { requireAdmin } from '../../auth/require-login.js';
import { formatDuration } from '../../catalogue/format.js';
import type { AppContext } from '../../http/context.js';
import { enqueueTranscodeJob, findLatestJobs } from '../../transcode/job-repository.js';
import { hlsStatusOf, type HlsStatus } from '../../transcode/hls-status.js';
import { listVideos, type Video } from '../../videos/video-repository.js';
import { adminActorOf } from '../http/admin-actor.js';
import { setFlash } from '../http/flash.js';
import { problemsByField } from '../http/input.js';
import { ensureVideoExists, targetVideoOf } from './ensure-video.js';
import { formatBytes } from './format-bytes.js';
import { MAX_POSTER_BYTES, readPosterUpload } from './poster-upload.js';
import { deleteVideoAsAdmin, posterKeyFor, replacePosterAsAdmin, setPublishedAsAdmin, updateVideoAsAdmin } from './video-admin-service.js';
import { publishForm, videoDetailsForm, videoIdParams } from './video-validators.js';
import { importRoutes } from './import-routes.js';
import { uploadRoutes } from './upload-routes.js';

const UNPROCESSABLE_422 = 422;

export function videoAdminRouter(context: AppContext): Router {
  const router = Router();
  const ensureVideo = [requireAdmin, videoIdParams.validate, ensureVideoExists(context)];

  router.get('/admin/videos', requireAdmin, listVideosController(context));
  // Fixed paths before /admin/videos/:id, although "upload" and "import" could never match an id.
  router.use(uploadRoutes(context));
  router.use(importRoutes(context));
  router.get('/admin/videos/:id', ...ensureVideo, editVideoController(context));
  router.post('/admin/videos/:id', ...ensureVideo, updateVideoController(context));
  // Under /api/ so that the upload script gets a failure as JSON it can show next to the form.
  router.post('/api/admin/videos/:id/poster', ...ensureVideo, posterController(context));
  router.post('/admin/videos/:id/transcode', ...ensureVideo, transcodeController(context));
  router.post('/admin/videos/:id/publish', ...ensureVideo, publishForm.validate, publishController(context));
  router.get('/admin/videos/:id/delete', ...ensureVideo, confirmDeleteController);
  router.post('/admin/videos/:id/delete', ...ensureVideo, deleteVideoController(context));

  return router;
}

function listVideosController(context: AppContext) {
  return async (_req: Request, res: Response) => {
    const videos = await listVideos(context.db, { publishedOnly: false });
    const jobs = await findLatestJobs(context.db, videos.map((video) => video.id));
    res.render('admin/videos', {
      title: 'Videos',
      rows: videos.map((video) => ({
        video,
        size: formatBytes(video.sizeBytes),
        duration: formatDuration(video.durationSeconds),
        hls: hlsStatusOf(video, jobs.get(video.id)),
      })),
    });
  };
}

function editVideoController(context: AppContext) {
  return async (_req: Request, res: Response) => {
    const video = targetVideoOf(res);
    const hls = await hlsStatusFor(context, video);
    renderEditPage(res, video, hls, { title: video.title, description: video.description }, {});
  };
}

async function hlsStatusFor(context: AppContext, video: Video): Promise<HlsStatus> {
  const jobs = await findLatestJobs(context.db, [video.id]);
  return hlsStatusOf(video, jobs.get(video.id));
}

/** Queues a new transcode job, for example after installing ffmpeg or fixing storage. */
function transcodeController(context: AppContext) {
  return async (req: Request, res: Response) => {
    const video = targetVideoOf(res);
    const hls = await hlsStatusFor(context, video);
    if (!hls.canRetry) {
      setFlash(req, 'error', `“${video.title}” is already ${hls.label}.`);
      return res.redirect(303, `/admin/videos/${video.id}`);
    }

    const job = await enqueueTranscodeJob(context.db, video.id, context.now());
    context.log.info({ videoId: video.id, jobId: job.id, adminId: adminActorOf(res).id }, 'transcode job queued by admin');

    setFlash(req, 'info', `Queued “${video.title}” for transcoding to HLS.`);
    res.redirect(303, `/admin/videos/${video.id}`);
  };
}

function updateVideoController(context: AppContext) {
  return async (req: Request, res: Response) => {
    const video = targetVideoOf(res);
    const parsed = videoDetailsForm.safeParse(req.body);
    if (!parsed.success) {
      const typed = { title: String(req.body?.title ?? ''), description: String(req.body?.description ?? '') };
      res.status(UNPROCESSABLE_422);
      return renderEditPage(res, video, await hlsStatusFor(context, video), typed, problemsByField(parsed.error));
    }

    await updateVideoAsAdmin(context, adminActorOf(res), video, parsed.data);

    setFlash(req, 'info', `Saved “${parsed.data.title}”.`);
    res.redirect(303, `/admin/videos/${video.id}`);
  };
}

function posterController(context: AppContext) {
  return async (req: Request, res: Response) => {
    const video = targetVideoOf(res);
    const poster = await readPosterUpload(req);

    const key = posterKeyFor(video.id, poster.type, randomBytes(6).toString('base64url'));
    await replacePosterAsAdmin(context, adminActorOf(res), video, { ...poster, key });

    setFlash(req, 'info', `Replaced the poster of “${video.title}”.`);
    res.redirect(303, `/admin/videos/${video.id}`);
  };
}

function publishController(context: AppContext) {
  return async (req: Request, res: Response) => {
    const video = targetVideoOf(res);
    const { published } = publishForm.of(res);

    await setPublishedAsAdmin(context, adminActorOf(res), video, published);

    setFlash(req, 'info', published ? `Published “${video.title}”: subscribers can watch it now.` : `“${video.title}” is a draft now: only admins see it.`);
    res.redirect(303, '/admin/videos');
  };
}

function confirmDeleteController(_req: Request, res: Response): void {
  const video = targetVideoOf(res);
  res.render('admin/video-delete', { title: `Delete ${video.title}`, video });
}

function deleteVideoController(context: AppContext) {
  return async (req: Request, res: Response) => {
    const video = targetVideoOf(res);
    const { objectsLeft } = await deleteVideoAsAdmin(context, adminActorOf(res), video);

    if (objectsLeft > 0) {
      setFlash(req, 'error', `Deleted “${video.title}” from the catalogue, but ${objectsLeft} stored file(s) could not be removed. The server log names them.`);
    } else {
      setFlash(req, 'info', `Deleted “${video.title}” with its file and poster.`);
    }
    res.redirect(303, '/admin/videos');
  };
}

function renderEditPage(
  res: Response,
  video: Video,
  hls: HlsStatus,
  values: { title: string; description: string },
  problems: Record<string, string>,
): void {
  res.render('admin/video', {
    title: `Edit ${video.title}`,
    video,
    hls,
    values,
    problems,
    size: formatBytes(video.sizeBytes),
    duration: formatDuration(video.durationSeconds),
    maxPosterMb: MAX_POSTER_BYTES / 1024 / 1024,
  });
}
