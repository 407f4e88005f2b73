import type { Request } from 'express';

/** API and media routes answer errors as JSON or plain status; pages answer with HTML. */
export function wantsJson(req: Request): boolean {
  return req.path.startsWith('/api/') || req.path.startsWith('/media/') || req.path === '/healthz';
}
