import type { Request } from 'express';

import { HttpError, badRequest } from '../../errors.js';
import { PAYLOAD_TOO_LARGE_413, UNSUPPORTED_MEDIA_TYPE_415 } from '../http/admin-errors.js';
import { multipartParser } from '../http/multipart.js';
import { sniffPosterType, type PosterType } from './image-probe.js';

export const MAX_POSTER_BYTES = 5 * 1024 * 1024;

/**
 * Reads the "poster" file of a multipart form into memory (posters are small and bounded by MAX_POSTER_BYTES)
 * and checks by its first bytes that it is a JPEG, PNG or WebP image, whatever its name or declared type.
 */
export function readPosterUpload(req: Request): Promise<{ body: Buffer; type: PosterType }> {
  const parser = multipartParser(req, { files: 1, fileSize: MAX_POSTER_BYTES, fields: 5, fieldSize: 1024 });

  return new Promise((resolve, reject) => {
    let poster: Promise<{ body: Buffer; type: PosterType }> | undefined;

    parser.on('file', (field, file) => {
      if (field !== 'poster') {
        file.resume();
        return;
      }
      poster = collectPoster(file);
      // Handled when the form ends; this keeps an early rejection from counting as unhandled meanwhile.
      poster.catch(() => undefined);
    });
    parser.on('error', () => reject(badRequest('UPLOAD_UNREADABLE', 'The upload was interrupted or malformed. Choose the file and try again.')));
    parser.on('close', () => {
      if (!poster) return reject(badRequest('POSTER_MISSING', 'No poster image was sent. Choose a .jpg, .png or .webp file.'));
      poster.then(resolve, reject);
    });

    req.pipe(parser);
  });
}

async function collectPoster(file: NodeJS.ReadableStream & { truncated?: boolean }): Promise<{ body: Buffer; type: PosterType }> {
  const chunks: Buffer[] = [];
  for await (const chunk of file) chunks.push(chunk as Buffer);

  if (file.truncated) {
    throw new HttpError(PAYLOAD_TOO_LARGE_413, 'POSTER_TOO_LARGE', `The poster is larger than ${MAX_POSTER_BYTES / 1024 / 1024} MB. Use a smaller image.`);
  }
  const body = Buffer.concat(chunks);
  if (body.length === 0) throw badRequest('POSTER_MISSING', 'No poster image was sent. Choose a .jpg, .png or .webp file.');

  const type = sniffPosterType(body);
  if (!type) {
    throw new HttpError(UNSUPPORTED_MEDIA_TYPE_415, 'NOT_AN_IMAGE', 'The poster is not a JPEG, PNG or WebP image. Choose a .jpg, .png or .webp file.');
  }
  return { body, type };
}
