import type { NextFunction, Request, Response } from 'express';

import { forbidden } from '../errors.js';
import type { AppContext } from '../http/context.js';
import { currentUserOf } from '../http/locals.js';

const HOTLINK_MESSAGE = 'This video can only be played on this site. Open it from the site itself.';

/** The guard's decision on one request, with the origin and Sec-Fetch-Site value behind a refusal. */
export type SourceVerdict =
  | { allowed: true }
  | { allowed: false; origin: string | null; fetchSite: string | null };

/**
 * Refuses grant and media requests that another site's page makes, unless that site is in
 * ALLOWED_EMBED_ORIGINS. It runs in front of the session check and never replaces it: a request that
 * passes here still needs the user's session, signed expiry and subscription.
 */
export function hotlinkGuard(context: AppContext) {
  const allowedOrigins = new Set(context.config.allowedEmbedOrigins);

  return (req: Request, res: Response, next: NextFunction) => {
    const verdict = judgeRequestSource(req, allowedOrigins);
    if (verdict.allowed) return next();

    // Only the origin is logged, never the full Referer, because it may be a media URL with its signature.
    // NOTE: repeats are not counted or rate-limited, so a busy hotlinking page logs one line per request.
    context.log.warn(
      { origin: verdict.origin, fetchSite: verdict.fetchSite, path: req.path, userId: currentUserOf(res)?.id },
      'refused a grant or media request from another site',
    );
    throw forbidden('HOTLINK_REFUSED', HOTLINK_MESSAGE);
  };
}

/**
 * Decides from Fetch Metadata when the browser sends it, else from Origin, else from Referer. A request
 * with none of them (curl, an older media player) is left to the session check alone.
 */
export function judgeRequestSource(req: Request, allowedOrigins: ReadonlySet<string>): SourceVerdict {
  const fetchSite = req.get('sec-fetch-site')?.trim().toLowerCase();
  const requestOrigin = requestingOrigin(req);

  if (fetchSite !== undefined) {
    // "none" is a navigation the user started (typing, pasting, a bookmark), and "same-origin" is this
    // site's own player.
    if (fetchSite === 'none' || fetchSite === 'same-origin') return { allowed: true };

    // "same-site" is refused like "cross-site": it means another subdomain of the same registrable domain,
    // which may be run by someone else, and the SameSite=Lax session cookie is sent with its requests, so
    // the session check would not stop it. Unknown values are refused because browsers send only the four
    // values that the Fetch Metadata spec defines.
    if (requestOrigin.kind === 'origin' && allowedOrigins.has(requestOrigin.origin)) return { allowed: true };
    return { allowed: false, origin: shownOrigin(requestOrigin), fetchSite };
  }

  if (requestOrigin.kind === 'absent') return { allowed: true };

  if (requestOrigin.kind === 'origin') {
    const siteOrigin = siteOriginOf(req);
    if (requestOrigin.origin === siteOrigin || allowedOrigins.has(requestOrigin.origin)) return { allowed: true };
  }
  return { allowed: false, origin: shownOrigin(requestOrigin), fetchSite: null };
}

type RequestingOrigin =
  | { kind: 'origin'; origin: string }
  | { kind: 'absent' }
  /** "Origin: null" (a sandboxed frame or a redirect chain) or a header that is not a URL. */
  | { kind: 'opaque'; raw: string };

function requestingOrigin(req: Request): RequestingOrigin {
  const origin = req.get('origin');
  if (origin !== undefined) return parseOrigin(origin);

  const referer = req.get('referer');
  if (referer !== undefined) return parseOrigin(referer);

  return { kind: 'absent' };
}

function parseOrigin(value: string): RequestingOrigin {
  const trimmed = value.trim();
  if (!URL.canParse(trimmed)) return { kind: 'opaque', raw: trimmed };

  const url = new URL(trimmed);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { kind: 'opaque', raw: trimmed };
  return { kind: 'origin', origin: url.origin };
}

/**
 * The site's own origin as this request presents it. req.protocol follows X-Forwarded-Proto only when
 * TRUST_PROXY trusts the proxy, and the Host header names the host the browser asked for.
 */
function siteOriginOf(req: Request): string | null {
  const host = req.get('host');
  if (host === undefined) return null;

  const candidate = `${req.protocol}://${host}`;
  return URL.canParse(candidate) ? new URL(candidate).origin : null;
}

// A header that is not an absolute URL is not logged as sent: a relative Referer could be a media URL
// with its signature.
function shownOrigin(origin: RequestingOrigin): string | null {
  if (origin.kind === 'origin') return origin.origin;
  if (origin.kind === 'opaque') return origin.raw === 'null' ? 'null' : 'invalid';
  return null;
}
