import { Router, type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';

import { requireLogin } from '../auth/require-login.js';
import { HttpError, forbidden } from '../errors.js';
import type { AppContext } from '../http/context.js';
import { currentUserOf } from '../http/locals.js';
import { ensureCanWatch, watchLocalsOf } from './entitlement.js';
import { issueGrant } from './grants.js';
import { hlsRoutes } from './hls-routes.js';
import { hotlinkGuard } from './hotlink-guard.js';
import { isMediaTokenValid } from './media-token.js';
import { sendObject } from './send-object.js';
import { OFFLOAD_LOCATION, shouldOffload } from './storage-offload.js';

const NO_STORE = 'no-store';

const mediaQuery = z.object({
  exp: z.string().regex(/^\d{1,12}$/).transform(Number),
  sig: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
});

export function playbackRouter(context: AppContext): Router {
  const router = Router();
  const refuseOtherSites = hotlinkGuard(context);

  router.get(
    '/api/videos/:id/playback',
    refuseOtherSites,
    noStore,
    requireLogin,
    ensureCanWatch(context, { refuse: true }),
    grantController(context),
  );

  // Every request for bytes, including each Range request of a seek, passes the session and
  // subscription check again, so a revocation stops the stream on its next request.
  const media = [
    refuseOtherSites,
    noStore,
    requireLogin,
    mediaTokenValidator(context),
    ensureCanWatch(context, { refuse: true }),
    mediaController(context),
  ];
  router.get('/media/:id', ...media);
  router.head('/media/:id', ...media);

  router.use(hlsRoutes(context, refuseOtherSites));

  if (context.config.mediaOffload === 'nginx') router.all(OFFLOAD_LOCATION, misroutedOffload(context));

  return router;
}

/**
 * nginx passes the X-Accel-Redirect request back to the app when its configuration lacks the internal storage
 * location. Without this route that would be a plain 404 on every media request, with nothing in the logs.
 */
function misroutedOffload(context: AppContext) {
  return (_req: Request, res: Response) => {
    context.log.error(
      { location: OFFLOAD_LOCATION },
      'nginx sent the offload request back to the app: add the location = /_reelgate/storage block from docs/deploy.md to the nginx server',
    );
    res.setHeader('Cache-Control', 'no-store');
    res.status(503).json({ error: { code: 'SERVICE_UNAVAILABLE', message: 'The video could not be read from storage. Try again in a minute.' } });
  };
}

export function noStore(_req: Request, res: Response, next: NextFunction): void {
  res.setHeader('Cache-Control', NO_STORE);
  next();
}

function grantController(context: AppContext) {
  return async (_req: Request, res: Response) => {
    const { video } = watchLocalsOf(res);
    const user = currentUserOf(res)!;

    const grant = await issueGrant(context, video, user.id);

    context.log.debug({ userId: user.id, videoId: video.id, expiresAt: grant.expiresAt }, 'playback grant issued');
    res.json(grant);
  };
}

/** Checks the signed expiry of an app-served media URL and that it was issued to the logged-in user. */
export function mediaTokenValidator(context: AppContext) {
  return (req: Request, res: Response, next: NextFunction) => {
    const parsed = mediaQuery.safeParse(req.query);
    if (!parsed.success) throw forbidden('GRANT_INVALID', 'This media link is not valid. Reload the page.');

    const user = currentUserOf(res)!;
    const claims = { videoId: String(req.params.id), userId: user.id, expiresAt: parsed.data.exp };
    if (!isMediaTokenValid(claims, parsed.data.sig, context.secrets.mediaSigningKey)) {
      context.log.warn({ userId: user.id, videoId: claims.videoId }, 'media request with a bad signature');
      throw forbidden('GRANT_INVALID', 'This media link is not valid. Reload the page.');
    }
    if (parsed.data.exp * 1000 <= context.now().getTime()) {
      throw new HttpError(403, 'GRANT_EXPIRED', 'This media link has expired. The player asks for a new one.');
    }
    next();
  };
}

function mediaController(context: AppContext) {
  return async (req: Request, res: Response) => {
    const { video } = watchLocalsOf(res);
    await sendObject(req, res, {
      storage: context.storage,
      key: video.storageKey,
      contentType: video.contentType,
      log: context.log,
      offload: shouldOffload(req, context.config),
    });
  };
}
