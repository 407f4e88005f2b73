import type { NextFunction, Request, Response } from 'express';

import { notFound, unavailable } from '../../errors.js';
import type { AppContext } from '../../http/context.js';
import { findVideo, type Video } from '../../videos/video-repository.js';
import { videoIdParams } from './video-validators.js';

/** Loads the video named by :id, drafts included, or throws a 404 error. */
export function ensureVideoExists(context: AppContext) {
  return async (_req: Request, res: Response, next: NextFunction) => {
    const { id } = videoIdParams.of(res);

    let video;
    try {
      video = await findVideo(context.db, id);
    } catch (err) {
      throw unavailable('database', err);
    }
    if (!video) throw notFound('This video does not exist. It may have been deleted.');

    res.locals.targetVideo = video;
    next();
  };
}

export function targetVideoOf(res: Response): Video {
  const video = res.locals.targetVideo as Video | undefined;
  if (!video) throw new Error('ensureVideoExists must run before this step');
  return video;
}
