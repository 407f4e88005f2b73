import path from 'node:path';

const MAX_FILE_NAME_LENGTH = 120;

/**
 * Reduces a browser's file name to a storage-safe one: the last path segment, without control characters,
 * backslashes or a leading dot, cut to a length that keeps the whole key far below 1024 bytes.
 */
export function safeFileName(name: string): string {
  const base = path.posix.basename(name.replace(/\\/g, '/'));
  const cleaned = base.replace(/[\p{Cc}\p{Cs}]/gu, '').replace(/^\.+/, '').trim().slice(-MAX_FILE_NAME_LENGTH);
  return cleaned === '' ? 'video' : cleaned;
}

export function videoKeyFor(videoId: string, fileName: string): string {
  return `videos/${videoId}/${safeFileName(fileName)}`;
}

/** Derives a title from a file name for an empty title field: "my_film-final.mp4" becomes "my film final". */
export function titleFromFileName(fileName: string): string {
  const withoutExtension = safeFileName(fileName).replace(/\.[A-Za-z0-9]{1,5}$/, '');
  const spaced = withoutExtension.replace(/[_-]+/g, ' ').trim();
  return (spaced === '' ? 'Untitled video' : spaced).slice(0, 200);
}
