import { Router, type Request, type Response } from 'express';
import { z } from 'zod';

import { canWatch } from '../access/can-watch.js';
import { requireLogin } from '../auth/require-login.js';
import { badRequest, notFound, unavailable } from '../errors.js';
import type { AppContext } from '../http/context.js';
import { currentUserOf } from '../http/locals.js';
import { sendObject } from '../playback/send-object.js';
import { ensureCanWatch, watchLocalsOf } from '../playback/entitlement.js';
import { findSubscription } from '../subscriptions/subscription-repository.js';
import { listVideosPage } from '../videos/video-repository.js';
import { formatDuration } from './format.js';

const FORBIDDEN_403 = 403;
const CATALOGUE_PAGE_SIZE = 48;

const POSTER_TYPES: Record<string, string> = { jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp' };

export function catalogueRouter(context: AppContext): Router {
  const router = Router();
  router.get('/', requireLogin, catalogueController(context));
  router.get('/videos/:id', requireLogin, ensureCanWatch(context, { refuse: false }), watchController(context));
  router.get('/videos/:id/poster', requireLogin, ensureCanWatch(context, { refuse: false }), posterController(context));
  return router;
}

const catalogueQuery = z.object({
  page: z.coerce
    .number({ error: 'The page number must be a whole number, such as ?page=2.' })
    .int({ error: 'The page number must be a whole number, such as ?page=2.' })
    .min(1, { error: 'Pages are numbered from 1.' })
    .max(1_000_000, { error: 'There is no page with that number.' })
    .default(1),
});

function catalogueController(context: AppContext) {
  return async (req: Request, res: Response) => {
    const query = catalogueQuery.safeParse(req.query);
    if (!query.success) throw badRequest('INVALID_PAGE', query.error.issues[0]?.message ?? 'Invalid page number.');
    const page = query.data.page;

    const user = currentUserOf(res)!;
    let videos;
    let total;
    let subscription;
    try {
      ({ videos, total } = await listVideosPage(context.db, { publishedOnly: !user.isAdmin, limit: CATALOGUE_PAGE_SIZE, offset: (page - 1) * CATALOGUE_PAGE_SIZE }));
      subscription = user.isAdmin ? undefined : await findSubscription(context.db, user.id);
    } catch (err) {
      throw unavailable('database', err);
    }
    const pageCount = Math.max(1, Math.ceil(total / CATALOGUE_PAGE_SIZE));
    if (page > pageCount) throw notFound(`There is no page ${page}: the catalogue has ${pageCount}.`);

    const now = context.now();
    const entries = videos.map((video) => ({
      video,
      duration: formatDuration(video.durationSeconds),
      locked: !canWatch(user, subscription, video, now).allowed,
    }));
    res.render('catalogue', { entries, anyLocked: entries.some((entry) => entry.locked), page, pageCount, total });
  };
}

function watchController(context: AppContext) {
  return (_req: Request, res: Response) => {
    const { video, decision } = watchLocalsOf(res);
    if (!decision.allowed) {
      context.log.debug({ userId: currentUserOf(res)?.id, videoId: video.id, reason: decision.reason }, 'watch page rejected');
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
