import type { Storage } from '../../storage/storage.js';
import { readMp4Duration } from '../../videos/media-probe.js';

/** Enough bytes for sniffVideoType and sniffPosterType. */
export const SNIFF_BYTES = 64;

/** Reads `length` bytes at `position` with one ranged read; fewer at the end of the object. */
export async function readRange(storage: Storage, key: string, position: number, length: number): Promise<Buffer> {
  const stream = await storage.read(key, { range: { start: position, end: position + length - 1 } });
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function readHead(storage: Storage, key: string, size: number): Promise<Buffer> {
  if (size === 0) return Buffer.alloc(0);
  return readRange(storage, key, 0, Math.min(SNIFF_BYTES, size));
}

/**
 * Reads the duration of a stored MP4 or QuickTime video with a few ranged reads of box headers, never the
 * media data. Returns null for other containers and when the file has no duration.
 */
export async function readStoredDuration(storage: Storage, key: string, contentType: string, size: number): Promise<number | null> {
  if (contentType !== 'video/mp4' && contentType !== 'video/quicktime') return null;
  return readMp4Duration((position, length) => readRange(storage, key, position, length), size);
}
