import { createHash, timingSafeEqual } from 'node:crypto';

import type { Request, Response } from 'express';

import type { Config } from '../config.js';
import type { SignedStorageRequest } from '../storage/storage.js';
import type { RangeResolution } from './range.js';

/*
 * Offload of proxied media bytes to nginx (MEDIA_OFFLOAD=nginx). The app still runs every check on every
 * request: hotlink guard, session, grant signature, subscription, existence, conditional requests and the
 * RFC 9110 Range decision. Instead of streaming the body itself, it responds to nginx with X-Accel-Redirect
 * to an internal location and a GET request for S3 signed in headers. nginx sends that request with exactly the
 * range the app chose and streams S3's response to the client; the client never sees these headers.
 */

/**
 * The header in which nginx sends MEDIA_OFFLOAD_SECRET, so that the app offloads only requests that nginx will
 * follow. A client cannot forge it without the secret.
 */
export const OFFLOAD_REQUEST_HEADER = 'X-Reelgate-Offload';
/** The internal nginx location that fetches from storage; docs/deploy.md has its configuration. */
export const OFFLOAD_LOCATION = '/_reelgate/storage';

/**
 * Returns whether this media request gets an X-Accel-Redirect response. Without the request header and the
 * right secret in it, which only the documented nginx configuration sends, the app streams the body itself.
 */
export function shouldOffload(req: Request, config: Pick<Config, 'mediaOffload' | 'mediaOffloadSecret'>): boolean {
  if (config.mediaOffload !== 'nginx' || config.mediaOffloadSecret === undefined) return false;

  const sent = req.get(OFFLOAD_REQUEST_HEADER);
  return sent !== undefined && secretsEqual(sent, config.mediaOffloadSecret);
}

/** Compares digests, so the time taken reveals nothing about the secret's length or its first characters. */
function secretsEqual(sent: string, secret: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
  return timingSafeEqual(digest(sent), digest(secret));
}

/** Sends the X-Accel-Redirect response that makes nginx fetch `signed`, limited to the resolved range. */
export function sendOffloaded(res: Response, signed: SignedStorageRequest, resolution: RangeResolution): void {
  res.setHeader('X-Accel-Redirect', OFFLOAD_LOCATION);
  res.setHeader('X-Reelgate-Url', signed.url);
  for (const [name, value] of Object.entries(signed.headers)) {
    res.setHeader(`X-Reelgate-${name}`, value);
  }
  if (resolution.kind === 'partial') {
    res.setHeader('X-Reelgate-Range', `bytes=${resolution.range.start}-${resolution.range.end}`);
  }
  res.status(200).end();
}
