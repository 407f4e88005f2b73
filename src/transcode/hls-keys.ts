/** Returns the storage key prefix of every HLS object of a video, as in "hls/abc123/360p/segment_000.ts". */
export function hlsKeyPrefix(videoId: string): string {
  return `hls/${videoId}/`;
}

export function hlsMasterKey(videoId: string): string {
  return `${hlsKeyPrefix(videoId)}master.m3u8`;
}

export const PLAYLIST_CONTENT_TYPE = 'application/vnd.apple.mpegurl';

/** Content-Type by file extension for the objects that an HLS rendition consists of. */
export const HLS_CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.m3u8': PLAYLIST_CONTENT_TYPE,
  '.ts': 'video/mp2t',
  // fMP4 segments and their initialization section (EXT-X-MAP).
  '.m4s': 'video/mp4',
  '.mp4': 'video/mp4',
  '.key': 'application/octet-stream',
};
