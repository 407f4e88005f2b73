import type { AppContext } from '../http/context.js';
import type { Video } from '../videos/video-repository.js';
import { hlsPlaylistUrl, issueHlsToken } from './hls-urls.js';
import { signMediaToken } from './media-token.js';

export interface PlaybackGrant {
  /** A presigned storage URL (S3 redirect delivery) or a signed path on this site. */
  url: string;
  expiresAt: string;
  type: string;
  /** Present once the video has HLS renditions: the signed URL of its master playlist on this site. */
  hls?: { url: string };
}

/**
 * Issues a short-lived grant for one video to one user. Callers check entitlement first; this only decides
 * the form of the grant: a presigned GetObject URL in S3 redirect delivery, else an app URL whose signature
 * binds video, user and expiry. Videos with HLS renditions also get the signed URL of their master playlist.
 * The app serves that playlist with every URI in it granted the same way.
 */
export async function issueGrant(context: AppContext, video: Video, userId: string): Promise<PlaybackGrant> {
  const grant = await issueMp4Grant(context, video, userId);
  if (!video.hlsMasterKey) return grant;

  return { ...grant, hls: { url: hlsPlaylistUrl(video.id, 'master.m3u8', issueHlsToken(context, video.id, userId)) } };
}

async function issueMp4Grant(context: AppContext, video: Video, userId: string): Promise<PlaybackGrant> {
  const ttl = context.config.mediaUrlTtlSeconds;
  const nowSeconds = Math.floor(context.now().getTime() / 1000);
  const expiresAt = nowSeconds + ttl;

  if (context.config.delivery === 'redirect') {
    const url = await context.storage.presignRead(video.storageKey, { expiresInSeconds: ttl, contentType: video.contentType });
    if (url) return { url, expiresAt: new Date(expiresAt * 1000).toISOString(), type: video.contentType };
  }

  const signature = signMediaToken({ videoId: video.id, userId, expiresAt }, context.secrets.mediaSigningKey);
  return {
    url: `/media/${encodeURIComponent(video.id)}?exp=${expiresAt}&sig=${signature}`,
    expiresAt: new Date(expiresAt * 1000).toISOString(),
    type: video.contentType,
  };
}
