import { createHmac, timingSafeEqual } from 'node:crypto';

/*
 * App-served media URLs carry an expiry and an HMAC-SHA256 signature over (video, user, expiry). The media
 * route also requires the same user's session and re-checks the subscription, so a copied URL is useless to
 * anyone else, and useless to the viewer too once it expires or the subscription is revoked.
 */

export interface MediaTokenClaims {
  videoId: string;
  userId: string;
  /** Expiry in whole seconds since the epoch. */
  expiresAt: number;
}

export function signMediaToken(claims: MediaTokenClaims, key: Buffer): string {
  return createHmac('sha256', key).update(payloadOf(claims)).digest('base64url');
}

export function isMediaTokenValid(claims: MediaTokenClaims, signature: string, key: Buffer): boolean {
  const expected = Buffer.from(signMediaToken(claims, key), 'base64url');
  const actual = Buffer.from(signature, 'base64url');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

function payloadOf(claims: MediaTokenClaims): string {
  // Ids are base64url, so "." cannot occur inside a field and the encoding is unambiguous.
  return `media.v1.${claims.videoId}.${claims.userId}.${claims.expiresAt}`;
}
