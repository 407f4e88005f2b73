import { Router, type Request, type RequestHandler, type Response } from 'express';
import { text } from 'node:stream/consumers';
import { z } from 'zod';

import { requireLogin } from '../auth/require-login.js';
import { notFound } from '../errors.js';
import type { AppContext } from '../http/context.js';
import { currentUserOf } from '../http/locals.js';
import { HLS_CONTENT_TYPES, PLAYLIST_CONTENT_TYPE, hlsKeyPrefix } from '../transcode/hls-keys.js';
import { PlaylistUriError, rewritePlaylist } from '../transcode/playlist-rewriter.js';
import { ensureCanWatch, watchLocalsOf } from './entitlement.js';
import { extensionOf, hlsGrantUrlResolver, issueHlsToken } from './hls-urls.js';
import { mediaTokenValidator, noStore } from './playback-routes.js';
import { sendObject } from './send-object.js';
import { shouldOffload } from './storage-offload.js';

/** Larger stored playlists are refused: a VOD playlist of a 10-hour film in 4 s segments is about 300 KiB. */
const MAX_PLAYLIST_BYTES = 2 * 1024 * 1024;

// Path segments as the transcoder writes them ("360p", "segment_004.ts"); "." and ".." cannot match.
const hlsPathSchema = z
  .array(z.string().regex(/^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,99}$/))
  .min(1)
  .max(4)
  .transform((segments) => segments.join('/'));

/**
 * HLS playlists and segments, behind the same checks as the MP4 media route: hotlink guard, login, the
 * signed expiry issued to this user, and the subscription, on every request.
 */
export function hlsRoutes(context: AppContext, refuseOtherSites: RequestHandler): Router {
  const router = Router();
  const checks = [refuseOtherSites, noStore, requireLogin, mediaTokenValidator(context), ensureCanWatch(context, { refuse: true })];

  router.get('/api/videos/:id/hls/*path', ...checks, playlistController(context));

  const segment = [...checks, segmentController(context)];
  router.get('/media/:id/hls/*path', ...segment);
  router.head('/media/:id/hls/*path', ...segment);

  return router;
}

function playlistController(context: AppContext) {
  return async (req: Request, res: Response) => {
    const { video } = watchLocalsOf(res);
    const relativePath = hlsPathOf(req, (path) => path.endsWith('.m3u8'));
    if (!video.hlsMasterKey) throw notFound('This video has no HLS renditions yet. Play the MP4 version.');

    const key = `${hlsKeyPrefix(video.id)}${relativePath}`;
    const stored = await readPlaylist(context, key);
    const token = issueHlsToken(context, video.id, currentUserOf(res)!.id);

    let body: string;
    try {
      body = await rewritePlaylist(stored, { playlistKey: key, allowedPrefix: hlsKeyPrefix(video.id), grantUrlFor: hlsGrantUrlResolver(context, video, token) });
    } catch (err) {
      if (!(err instanceof PlaylistUriError)) throw err;
      // A stored playlist that points outside the video's prefix was not written by the transcoder.
      context.log.warn({ err, videoId: video.id, key }, 'stored HLS playlist rejected');
      throw notFound('This video has no playable HLS renditions. Play the MP4 version.');
    }

    // A Buffer keeps Express from appending "; charset=utf-8": RFC 8216 makes playlists UTF-8 by definition.
    res.setHeader('Content-Type', PLAYLIST_CONTENT_TYPE);
    res.send(Buffer.from(body, 'utf8'));
  };
}

function segmentController(context: AppContext) {
  return async (req: Request, res: Response) => {
    const { video } = watchLocalsOf(res);
    // Playlists are only served rewritten, by the playlist route.
    const relativePath = hlsPathOf(req, (path) => extensionOf(path) in HLS_CONTENT_TYPES && !path.endsWith('.m3u8'));
    const contentType = HLS_CONTENT_TYPES[extensionOf(relativePath)]!;

    await sendObject(req, res, {
      storage: context.storage,
      key: `${hlsKeyPrefix(video.id)}${relativePath}`,
      contentType,
      log: context.log,
      offload: shouldOffload(req, context.config),
    });
  };
}

function hlsPathOf(req: Request, allowed: (path: string) => boolean): string {
  const parsed = hlsPathSchema.safeParse(req.params.path);
  if (!parsed.success || !allowed(parsed.data)) throw notFound('This HLS file does not exist.');
  return parsed.data;
}

async function readPlaylist(context: AppContext, key: string): Promise<string> {
  const info = await context.storage.stat(key);
  if (info === null) throw notFound('This HLS playlist is missing from storage.');
  if (info.size > MAX_PLAYLIST_BYTES) throw new Error(`Stored HLS playlist ${key} is ${info.size} bytes, more than ${MAX_PLAYLIST_BYTES}`);

  return text(await context.storage.read(key));
}
