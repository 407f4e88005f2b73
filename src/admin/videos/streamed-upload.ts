import { Transform, type Readable, type TransformCallback } from 'node:stream';

import type { Request } from 'express';

import { HttpError, badRequest } from '../../errors.js';
import { newId } from '../../ids.js';
import type { Storage } from '../../storage/storage.js';
import { sniffVideoType, type VideoType } from '../../videos/media-probe.js';
import { PAYLOAD_TOO_LARGE_413, UNSUPPORTED_MEDIA_TYPE_415 } from '../http/admin-errors.js';
import { multipartParser } from '../http/multipart.js';
import { titleFromFileName, videoKeyFor } from './upload-names.js';
import { SNIFF_BYTES } from './storage-probe.js';
import { titleField } from './video-validators.js';

export interface StreamedVideo {
  id: string;
  title: string;
  storageKey: string;
  contentType: VideoType;
}

export const notAVideo = () =>
  new HttpError(UNSUPPORTED_MEDIA_TYPE_415, 'NOT_A_VIDEO', 'This file is not a video. Upload an MP4, MOV, WebM or Ogg video file.');

export const tooLarge = (maxBytes: number) =>
  new HttpError(PAYLOAD_TOO_LARGE_413, 'VIDEO_TOO_LARGE', `The video is larger than the limit of ${Math.floor(maxBytes / 1024 / 1024)} MB (MAX_UPLOAD_MB).`);

/**
 * Streams the "video" file of a multipart form into storage without holding it in memory. The form's
 * "title" field must come before the file. The file is rejected unless its declared type is video/* and
 * its first bytes are a known video container. A rejected or interrupted upload leaves nothing stored,
 * because storage.write removes its partial object when the stream fails.
 */
export function receiveStreamedVideo(req: Request, options: { storage: Storage; maxBytes: number }): Promise<StreamedVideo> {
  const parser = multipartParser(req, { files: 1, fileSize: options.maxBytes, fields: 3, fieldSize: 8 * 1024 });
  let titleText = '';

  return new Promise((resolve, reject) => {
    let upload: Promise<StreamedVideo> | undefined;

    parser.on('field', (name, value) => {
      if (name === 'title') titleText = value;
    });
    parser.on('file', (name, file, info) => {
      if (name !== 'video' || upload) {
        file.resume();
        return;
      }
      upload = storeVideo(file, info, titleText, options);
      // Handled when the form ends; this keeps an early rejection from counting as unhandled meanwhile.
      upload.catch(() => undefined);
    });
    parser.on('error', () => reject(badRequest('UPLOAD_UNREADABLE', 'The upload was interrupted or malformed. Choose the file and try again.')));
    parser.on('close', () => {
      if (!upload) return reject(badRequest('VIDEO_MISSING', 'No video file was sent. Choose a video file and try again.'));
      upload.then(resolve, reject);
    });

    req.pipe(parser);
  });
}

async function storeVideo(
  file: Readable,
  info: { filename: string; mimeType: string },
  titleText: string,
  options: { storage: Storage; maxBytes: number },
): Promise<StreamedVideo> {
  if (!info.mimeType.startsWith('video/')) {
    file.resume();
    throw notAVideo();
  }
  const title = titleText.trim() === '' ? { success: true as const, data: titleFromFileName(info.filename) } : titleField.safeParse(titleText);
  if (!title.success) {
    file.resume();
    throw badRequest('INVALID_TITLE', title.error.issues[0]?.message ?? 'The title is invalid.');
  }

  const id = newId();
  const storageKey = videoKeyFor(id, info.filename);
  const gate = new VideoGate();
  // The gate can fail before storage.write attaches its own listeners (local storage creates folders
  // first), so this listener keeps that from being an uncaught error. Draining the rest of the file lets
  // the form end, so the rejection can be sent.
  gate.on('error', () => {
    file.unpipe(gate);
    file.resume();
  });
  file.on('limit', () => gate.destroy(tooLarge(options.maxBytes)));
  file.pipe(gate);

  await options.storage.write(storageKey, gate, { contentType: 'application/octet-stream' }).catch((err: unknown) => {
    throw gate.failure ?? err;
  });

  return { id, title: title.data, storageKey, contentType: gate.videoType! };
}

/**
 * Passes bytes through once the first SNIFF_BYTES show a video container, and fails the stream otherwise,
 * before anything reaches storage.
 */
class VideoGate extends Transform {
  videoType: VideoType | null = null;
  failure: HttpError | undefined;
  private head: Buffer[] = [];
  private headLength = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.videoType) return callback(null, chunk);

    this.head.push(chunk);
    this.headLength += chunk.length;
    if (this.headLength < SNIFF_BYTES) return callback();

    this.releaseHead(callback);
  }

  override _flush(callback: TransformCallback): void {
    if (this.videoType) return callback();
    this.releaseHead(callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (error instanceof HttpError) this.failure = error;
    callback(error);
  }

  private releaseHead(callback: TransformCallback): void {
    const head = Buffer.concat(this.head);
    this.videoType = sniffVideoType(head);
    if (!this.videoType) {
      this.failure = notAVideo();
      return callback(this.failure);
    }
    this.head = [];
    callback(null, head);
  }
}
