import fs from 'node:fs';
import path from 'node:path';

import type { Db } from '../db/database.js';
import { newId } from '../ids.js';
import type { Storage } from '../storage/storage.js';
import { enqueueTranscodeJob } from '../transcode/job-repository.js';
import { readMp4DurationSeconds, sniffVideoType } from './media-probe.js';
import { insertVideo, type Video } from './video-repository.js';

export class VideoFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VideoFileError';
  }
}

const SNIFF_BYTES = 64;
const POSTER_TYPES: Record<string, string> = { '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.png': 'image/png', '.webp': 'image/webp' };

/**
 * Uploads a local video file (and optional poster) to storage, registers it and queues its HLS transcode job.
 * The type is taken from the file's first bytes, never from its name. If registering fails, the uploaded
 * objects are removed again.
 */
export async function addVideoFromFile(
  services: { db: Db; storage: Storage },
  input: { filePath: string; title: string; description?: string; posterPath?: string; maxBytes?: number },
): Promise<Video> {
  const stat = await statFile(input.filePath);
  if (input.maxBytes !== undefined && stat.size > input.maxBytes) {
    throw new VideoFileError(`${input.filePath} is ${stat.size} bytes, more than the limit of ${input.maxBytes} bytes (MAX_UPLOAD_MB)`);
  }
  const contentType = sniffVideoType(await readHead(input.filePath));
  if (!contentType) {
    throw new VideoFileError(`${input.filePath} is not a video: expected MP4, MOV, WebM or Ogg content`);
  }
  const posterType = input.posterPath ? POSTER_TYPES[path.extname(input.posterPath).toLowerCase()] : undefined;
  if (input.posterPath && !posterType) {
    throw new VideoFileError(`${input.posterPath} is not a poster image: use a .jpg, .png or .webp file`);
  }

  const id = newId();
  const storageKey = `videos/${id}/${path.basename(input.filePath)}`;
  const posterKey = input.posterPath ? `posters/${id}${path.extname(input.posterPath).toLowerCase()}` : null;
  const durationSeconds = contentType === 'video/mp4' || contentType === 'video/quicktime' ? await readMp4DurationSeconds(input.filePath) : null;

  await services.storage.write(storageKey, fs.createReadStream(input.filePath), { contentType, size: stat.size });
  try {
    if (input.posterPath && posterKey && posterType) {
      await services.storage.write(posterKey, fs.createReadStream(input.posterPath), { contentType: posterType });
    }
    return await services.db.transaction().execute(async (trx) => {
      const video = await insertVideo(trx, {
        id,
        title: input.title,
        description: input.description ?? '',
        storageKey,
        contentType,
        sizeBytes: stat.size,
        durationSeconds,
        posterKey,
      });
      // The server's transcode worker picks this up; the MP4 plays until the HLS renditions are ready.
      await enqueueTranscodeJob(trx, video.id, new Date());
      return video;
    });
  } catch (err) {
    await services.storage.delete(storageKey).catch(() => undefined);
    if (posterKey) await services.storage.delete(posterKey).catch(() => undefined);
    throw err;
  }
}

async function statFile(filePath: string): Promise<fs.Stats> {
  try {
    const stat = await fs.promises.stat(filePath);
    if (!stat.isFile()) throw new VideoFileError(`${filePath} is not a file`);
    return stat;
  } catch (err) {
    if (err instanceof VideoFileError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new VideoFileError(`${filePath} does not exist`);
    if (code === 'EACCES') throw new VideoFileError(`${filePath} cannot be read: permission denied`);
    throw err;
  }
}

async function readHead(filePath: string): Promise<Buffer> {
  const handle = await fs.promises.open(filePath, 'r');
  try {
    const buffer = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, SNIFF_BYTES, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}
