import type { Request, Response } from 'express';
import fresh from 'fresh';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { notFound } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ObjectInfo, Storage } from '../storage/storage.js';
import { resolveRange, type RangeResolution } from './range.js';
import { sendOffloaded } from './storage-offload.js';

export interface SendObjectOptions {
  storage: Storage;
  key: string;
  /** Sent as Content-Type, in place of whatever type the storage backend has on record. */
  contentType: string;
  log: Logger;
  /** True to send a GET's X-Accel-Redirect response for nginx instead of streaming the body (see storage-offload.ts). */
  offload?: boolean;
}

/**
 * Streams one stored object as the response to a GET or HEAD, with conditional requests (If-None-Match,
 * If-Modified-Since, If-Range) and single byte ranges per RFC 9110.
 *
 * Errors from storage.stat and storage.read are rethrown unchanged for the app's error handler. An error while
 * the body streams is logged and the connection is cut, because the status is already committed by then.
 */
export async function sendObject(req: Request, res: Response, options: SendObjectOptions): Promise<void> {
  const { storage, key } = options;

  const info = await storage.stat(key);
  if (info === null) throw notFound('This video file is missing from storage.');

  const headers = representationHeaders(info, options.contentType);

  if (isNotModified(req, headers)) {
    sendWithoutBody(res, 304, headers);
    return;
  }

  const resolution = resolveRequestedRange(req, info);

  if (resolution.kind === 'unsatisfiable') {
    sendWithoutBody(res, 416, { ...headers, 'Content-Range': `bytes */${info.size}` });
    return;
  }

  // HEAD gets the same headers as GET but no body, so it never opens the object.
  if (req.method === 'HEAD') {
    writeBodyHeaders(res, resolution, info.size, headers);
    res.end();
    return;
  }

  if (options.offload) {
    const signed = await storage.signReadRequest(key, { contentType: options.contentType });
    if (signed !== null) {
      sendOffloaded(res, signed, resolution);
      return;
    }
  }

  await streamBody(res, { resolution, info, headers, ...options });
}

type HeaderValues = Record<string, string>;

function representationHeaders(info: ObjectInfo, contentType: string): HeaderValues {
  const headers: HeaderValues = {
    'Accept-Ranges': 'bytes',
    'Content-Type': contentType,
  };

  if (info.etag !== undefined) headers['ETag'] = info.etag;
  if (info.lastModified !== undefined) headers['Last-Modified'] = info.lastModified.toUTCString();

  return headers;
}

// res.setHeader keeps the values exact, where res.set would append a charset to some content types.
function setHeaders(res: Response, headers: HeaderValues): void {
  for (const [name, value] of Object.entries(headers)) {
    res.setHeader(name, value);
  }
}

// RFC 9110 defines 304 for GET and HEAD only.
function isNotModified(req: Request, headers: HeaderValues): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;

  return fresh(req.headers, { etag: headers['ETag'], 'last-modified': headers['Last-Modified'] });
}

/**
 * Applies the Range header only where RFC 9110 allows: on GET (a server must ignore Range on any other method,
 * HEAD included), and only when If-Range, if present, still matches the object.
 */
function resolveRequestedRange(req: Request, info: ObjectInfo): RangeResolution {
  const rangeHeader = req.headers.range;
  if (req.method !== 'GET' || rangeHeader === undefined) return { kind: 'full' };

  const ifRange = req.headers['if-range'];
  if (ifRange !== undefined && !ifRangeMatches(ifRange, info)) return { kind: 'full' };

  return resolveRange(rangeHeader, info.size);
}

/**
 * Compares If-Range with the current validators. An entity tag must match strongly, so a weak tag never
 * matches, and a date must equal Last-Modified to the second (RFC 9110 section 13.1.5).
 *
 * NOTE: RFC 9110 also rejects a date that is not a strong validator (Last-Modified less than a second before
 * the response Date), which this does not check. Browsers send the ETag in If-Range when they have one.
 */
function ifRangeMatches(ifRange: string | string[], info: ObjectInfo): boolean {
  // If-Range contains one validator, so a repeated header cannot match.
  if (Array.isArray(ifRange)) return false;

  const validator = ifRange.trim();

  if (validator.startsWith('"') || validator.startsWith('W/')) {
    return info.etag !== undefined && !info.etag.startsWith('W/') && validator === info.etag;
  }

  if (info.lastModified === undefined) return false;

  const date = Date.parse(validator);
  if (Number.isNaN(date)) return false;

  return Math.floor(date / 1000) === Math.floor(info.lastModified.getTime() / 1000);
}

function writeBodyHeaders(res: Response, resolution: RangeResolution, size: number, headers: HeaderValues): void {
  setHeaders(res, headers);

  if (resolution.kind !== 'partial') {
    res.status(200);
    res.setHeader('Content-Length', size);
    return;
  }

  const { start, end } = resolution.range;
  res.status(206);
  res.setHeader('Content-Range', `bytes ${start}-${end}/${size}`);
  res.setHeader('Content-Length', end - start + 1);
}

// 304 and 416 carry no representation, so a media Content-Type would describe nothing.
function sendWithoutBody(res: Response, status: 304 | 416, headers: HeaderValues): void {
  const { 'Content-Type': _contentType, ...bodylessHeaders } = headers;
  setHeaders(res, bodylessHeaders);
  res.status(status);
  res.end();
}

interface StreamBodyOptions extends SendObjectOptions {
  resolution: RangeResolution;
  info: ObjectInfo;
  headers: HeaderValues;
}

async function streamBody(res: Response, options: StreamBodyOptions): Promise<void> {
  const { storage, key, log, resolution } = options;
  const abortOnClientClose = abortWhenClientLeaves(res);
  const range = resolution.kind === 'partial' ? resolution.range : undefined;

  // A failure here (missing file, storage down) happens before this function has set any status or header,
  // so it propagates unchanged and the app's error handler can still send its own response.
  let body: Readable;
  try {
    body = await storage.read(key, { range, signal: abortOnClientClose.signal });
  } catch (err) {
    if (abortOnClientClose.signal.aborted) {
      log.debug({ key }, 'Client closed the connection before the object was opened');
      return;
    }
    throw err;
  }

  writeBodyHeaders(res, resolution, options.info.size, options.headers);
  const storageFailure = recordStorageFailure(body, abortOnClientClose.signal);

  try {
    await pipeline(body, res);
  } catch (err) {
    if (storageFailure.error === undefined && abortOnClientClose.signal.aborted) {
      log.debug({ key }, 'Client closed the connection during the response body');
      return;
    }

    // Once piping starts the status and Content-Length are committed, even if the first chunk never arrived,
    // so the client must see a cut connection rather than a short body that looks complete. pipeline has
    // usually destroyed the response already, and destroying it again is harmless.
    log.error({ err: storageFailure.error ?? err, key }, 'Streaming the object from storage failed');
    res.destroy();
  }
}

/**
 * Keeps the first error that the storage stream emits on its own. An error that follows our abort is the
 * client leaving, not a storage failure, because pipeline cannot tell the two apart.
 */
function recordStorageFailure(body: Readable, signal: AbortSignal): { error: unknown } {
  const failure: { error: unknown } = { error: undefined };

  body.once('error', (err) => {
    if (!signal.aborted) failure.error = err;
  });

  return failure;
}

/** Returns a controller that aborts, and so ends the storage read, when the response closes before it finishes. */
function abortWhenClientLeaves(res: Response): AbortController {
  const controller = new AbortController();

  // The client may have left while storage.stat ran, and then 'close' has already fired.
  if (res.destroyed && !res.writableFinished) {
    controller.abort();
    return controller;
  }

  res.once('close', () => {
    if (!res.writableFinished) controller.abort();
  });

  return controller;
}
