import { Router, type Request, type Response } from 'express';

import { canWatch } from '../access/can-watch.js';
import { requireLogin } from '../auth/require-login.js';
import { notFound, unavailable } from '../errors.js';
import type { AppContext } from '../http/context.js';
import { currentUserOf } from '../http/locals.js';
import { sendObject } from '../playback/send-object.js';
import { ensureCanWatch, watchLocalsOf } from '../playback/entitlement.js';
import { findSubscription } from '../subscriptions/subscription-repository.js';
import { listVideos } from '../videos/video-repository.js';
import { formatDuration } from './format.js';

const FORBIDDEN_403 = 403;

const POSTER_TYPES: Record<string, string> = { jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp' };

export function catalogueRouter(context: AppContext): Router {
  const router = Router();
  router.get('/', requireLogin, catalogueController(context));
  router.get('/videos/:id', requireLogin, ensureCanWatch(context, { refuse: false }), watchController(context));
  router.get('/videos/:id/poster', requireLogin, ensureCanWatch(context, { refuse: false }), posterController(context));
  return router;
}

function catalogueController(context: AppContext) {
  return async (_req: Request, res: Response) => {
    const user = currentUserOf(res)!;
    let videos;
    let subscription;
    try {
      videos = await listVideos(context.db, { publishedOnly: !user.isAdmin });
      subscription = user.isAdmin ? undefined : await findSubscription(context.db, user.id);
    } catch (err) {
      throw unavailable('database', err);
    }

    const now = context.now();
    const entries = videos.map((video) => ({
      video,
      duration: formatDuration(video.durationSeconds),
      locked: !canWatch(user, subscription, video, now).allowed,
    }));
    res.render('catalogue', { entries, anyLocked: entries.some((entry) => entry.locked) });
  };
}

function watchController(context: AppContext) {
  return (_req: Request, res: Response) => {
    const { video, decision } = watchLocalsOf(res);
    if (!decision.allowed) {
      context.log.debug({ userId: currentUserOf(res)?.id, videoId: video.id, reason: decision.reason }, 'watch page refused');
      // The refusal page carries no media URL and no grant endpoint, only the title and the reason.
      return res.status(FORBIDDEN_403).render('subscribe', { video, reason: decision.reason });
    }
    res.render('watch', { video, duration: formatDuration(video.durationSeconds) });
  };
}

/** Posters are shown on the catalogue to every logged-in user, locked or not, so only login is required. */
function posterController(context: AppContext) {
  return async (req: Request, res: Response) => {
    const { video } = watchLocalsOf(res);
    if (!video.posterKey) throw notFound('This video has no poster.');

    const extension = video.posterKey.split('.').pop()?.toLowerCase() ?? '';
    res.setHeader('Cache-Control', 'private, max-age=300');
    await sendObject(req, res, {
      storage: context.storage,
      key: video.posterKey,
      contentType: POSTER_TYPES[extension] ?? 'application/octet-stream',
      log: context.log,
    });
  };
}
