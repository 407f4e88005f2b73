import type { AppContext } from '../http/context.js';
import type { Video } from '../videos/video-repository.js';
import { signMediaToken } from './media-token.js';

export interface PlaybackGrant {
  /** A presigned storage URL (S3 redirect delivery) or a signed path on this site. */
  url: string;
  expiresAt: string;
  type: string;
}

/**
 * Issues a short-lived grant for one video to one user. Callers check entitlement first; this only decides
 * the form of the grant: a presigned GetObject URL in S3 redirect delivery, else an app URL whose signature
 * binds video, user and expiry.
 */
export async function issueGrant(context: AppContext, video: Video, userId: string): Promise<PlaybackGrant> {
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
