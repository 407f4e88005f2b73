import type { NextFunction, Request, Response } from 'express';

import { REFUSAL_MESSAGES, canWatch, type AccessDecision } from '../access/can-watch.js';
import { HttpError, forbidden, notFound, unavailable } from '../errors.js';
import type { AppContext } from '../http/context.js';
import { currentUserOf } from '../http/locals.js';
import { ID_PATTERN } from '../ids.js';
import { findSubscription } from '../subscriptions/subscription-repository.js';
import { findVideo, type Video } from '../videos/video-repository.js';

/** The values that ensureCanWatch leaves on res.locals for the controller. */
export interface WatchLocals {
  video: Video;
  decision: AccessDecision;
}

export function watchLocalsOf(res: Response): WatchLocals {
  const locals = res.locals as Partial<WatchLocals>;
  if (!locals.video || !locals.decision) throw new Error('ensureCanWatch must run before this controller');
  return { video: locals.video, decision: locals.decision };
}

/**
 * Loads the video named by :id and the current user's subscription fresh from the database and applies the
 * access rule. With `refuse: true` a refusal becomes a 403 error; otherwise the decision is left for the
 * controller (the watch page renders its own 403 page). Unknown and malformed ids are 404.
 */
export function ensureCanWatch(context: AppContext, options: { refuse: boolean }) {
  return async (req: Request, res: Response, next: NextFunction) => {
    const id = req.params.id;
    if (typeof id !== 'string' || !ID_PATTERN.test(id)) throw notFound('This video does not exist.');

    const user = currentUserOf(res);
    let video: Video | undefined;
    let subscription;
    try {
      video = await findVideo(context.db, id);
      subscription = user && !user.isAdmin ? await findSubscription(context.db, user.id) : undefined;
    } catch (err) {
      throw unavailable('database', err);
    }
    if (!video) throw notFound('This video does not exist.');

    const decision = canWatch(user, subscription, video, context.now());
    // Drafts stay invisible: a non-admin cannot tell an unpublished video from a missing one.
    if (!decision.allowed && decision.reason === 'video-unpublished') throw notFound('This video does not exist.');
    if (!decision.allowed && options.refuse) throw refusal(decision.reason, context, user?.id, video.id);

    Object.assign(res.locals, { video, decision } satisfies WatchLocals);
    next();
  };
}

function refusal(reason: Exclude<AccessDecision, { allowed: true }>['reason'], context: AppContext, userId: string | undefined, videoId: string): HttpError {
  context.log.debug({ userId, videoId, reason }, 'playback rejected');
  return forbidden(reason.toUpperCase().replaceAll('-', '_'), REFUSAL_MESSAGES[reason]);
}
