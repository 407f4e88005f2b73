/*
 * Rewrites the URIs of an HLS playlist (RFC 8216) that the transcoder stored, so that a browser reaches
 * every playlist, segment, initialization section and key only through a signed, short-lived URL. Only
 * plain relative URIs that stay inside the video's own key prefix are accepted: a stored playlist that
 * points anywhere else is rejected as a whole, never passed through.
 */

/** A stored playlist contains a URI that is absolute, escapes the video's prefix or is not plain. */
export class PlaylistUriError extends Error {
  constructor(
    readonly uri: string,
    reason: string,
  ) {
    super(`Playlist URI ${JSON.stringify(uri)} rejected: ${reason}`);
    this.name = 'PlaylistUriError';
  }
}

export interface RewriteOptions {
  /** Storage key of the playlist itself; relative URIs resolve against its folder. */
  playlistKey: string;
  /** Every resolved key must start with this prefix, e.g. "hls/<videoId>/". */
  allowedPrefix: string;
  /** Returns the URL that the client gets in place of the object under `key`. */
  grantUrlFor: (key: string) => Promise<string> | string;
}

// Letters, digits, "_", "-", "." and "/": what the transcoder writes. Anything else (a scheme, a query,
// percent-escapes, backslashes) has no business in these playlists.
const PLAIN_RELATIVE_URI = /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/;
const URI_ATTRIBUTE = /URI="([^"]*)"/g;

export async function rewritePlaylist(text: string, options: RewriteOptions): Promise<string> {
  const lines = text.split(/\r?\n/);
  if (lines[0]?.trim() !== '#EXTM3U') throw new PlaylistUriError('', 'the playlist does not start with #EXTM3U');

  const grants = new Map<string, Promise<string> | string>();
  const grantOf = (uri: string): Promise<string> | string => {
    const key = resolvePlaylistUri(uri, options.playlistKey, options.allowedPrefix);
    if (!grants.has(key)) grants.set(key, options.grantUrlFor(key));
    return grants.get(key)!;
  };

  // First pass: validate every URI and start its grant, so presigning runs in parallel.
  for (const line of lines) {
    for (const uri of urisOf(line)) grantOf(uri);
  }
  const resolved = new Map<string, string>();
  for (const [key, grant] of grants) resolved.set(key, await grant);
  const urlOf = (uri: string) => resolved.get(resolvePlaylistUri(uri, options.playlistKey, options.allowedPrefix))!;

  return lines.map((line) => rewriteLine(line, urlOf)).join('\n');
}

/** Resolves a relative URI of the playlist at `playlistKey` to a storage key under `allowedPrefix`. */
export function resolvePlaylistUri(uri: string, playlistKey: string, allowedPrefix: string): string {
  if (!PLAIN_RELATIVE_URI.test(uri)) throw new PlaylistUriError(uri, 'only relative paths of letters, digits, "_", "-", "." and "/" are allowed');

  const segments = uri.split('/');
  if (segments.some((segment) => segment === '.' || segment === '..')) throw new PlaylistUriError(uri, '"." and ".." segments are not allowed');

  const folder = playlistKey.slice(0, playlistKey.lastIndexOf('/') + 1);
  const key = `${folder}${uri}`;
  if (!key.startsWith(allowedPrefix)) throw new PlaylistUriError(uri, `it resolves outside ${allowedPrefix}`);
  return key;
}

function urisOf(line: string): string[] {
  const trimmed = line.trim();
  if (trimmed === '') return [];
  if (!trimmed.startsWith('#')) return [trimmed];
  if (!trimmed.startsWith('#EXT')) return [];
  return [...trimmed.matchAll(URI_ATTRIBUTE)].map((match) => match[1]!);
}

function rewriteLine(line: string, urlOf: (uri: string) => string): string {
  const trimmed = line.trim();
  if (trimmed === '') return trimmed;
  if (!trimmed.startsWith('#')) return urlOf(trimmed);
  // Plain comments are dropped: they are not tags, and nothing stored should reach the client unread.
  if (!trimmed.startsWith('#EXT')) return '';
  return trimmed.replace(URI_ATTRIBUTE, (_attribute, uri: string) => `URI="${urlOf(uri)}"`);
}
