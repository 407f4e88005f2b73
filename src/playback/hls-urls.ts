import type { AppContext } from '../http/context.js';
import { HLS_CONTENT_TYPES, hlsKeyPrefix } from '../transcode/hls-keys.js';
import type { Video } from '../videos/video-repository.js';
import { signMediaToken } from './media-token.js';

/** One signed expiry for every URL of a served playlist; the same token format as the MP4 media URLs. */
export interface HlsToken {
  expiresAt: number;
  signature: string;
}

export function issueHlsToken(context: AppContext, videoId: string, userId: string): HlsToken {
  const expiresAt = Math.floor(context.now().getTime() / 1000) + context.config.mediaUrlTtlSeconds;
  return { expiresAt, signature: signMediaToken({ videoId, userId, expiresAt }, context.secrets.mediaSigningKey) };
}

/** Builds the signed URL of the app route that serves a playlist such as "master.m3u8" with its URIs rewritten. */
export function hlsPlaylistUrl(videoId: string, relativePath: string, token: HlsToken): string {
  return `/api/videos/${encodeURIComponent(videoId)}/hls/${relativePath}?exp=${token.expiresAt}&sig=${token.signature}`;
}

/**
 * Returns the function that turns a storage key under hls/<videoId>/ into the URL a player gets for it:
 * playlists always go through the app, which rewrites them; segments are presigned in S3 redirect
 * delivery, and otherwise served by the session-checked media route.
 */
export function hlsGrantUrlResolver(context: AppContext, video: Video, token: HlsToken): (key: string) => Promise<string> {
  const prefix = hlsKeyPrefix(video.id);

  return async (key) => {
    const relativePath = key.slice(prefix.length);
    if (relativePath.endsWith('.m3u8')) return hlsPlaylistUrl(video.id, relativePath, token);

    if (context.config.delivery === 'redirect') {
      const contentType = HLS_CONTENT_TYPES[extensionOf(relativePath)] ?? 'application/octet-stream';
      const presigned = await context.storage.presignRead(key, { expiresInSeconds: context.config.mediaUrlTtlSeconds, contentType });
      if (presigned) return presigned;
    }
    return `/media/${encodeURIComponent(video.id)}/hls/${relativePath}?exp=${token.expiresAt}&sig=${token.signature}`;
  };
}

export function extensionOf(relativePath: string): string {
  const dot = relativePath.lastIndexOf('.');
  return dot === -1 ? '' : relativePath.slice(dot);
}
