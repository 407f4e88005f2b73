import type { NextFunction, Request, Response } from 'express';

import '../../auth/session-data.js';

export type FlashKind = 'info' | 'error';

/** Stores a one-time message for the page the browser is redirected to. */
export function setFlash(req: Request, kind: FlashKind, text: string): void {
  req.session.flash = { kind, text };
}

/** Moves the pending message into res.locals.flash for this page and removes it, so it shows exactly once. */
export function takeFlash(req: Request, res: Response, next: NextFunction): void {
  if (req.method === 'GET' && req.session?.flash) {
    res.locals.flash = req.session.flash;
    delete req.session.flash;
  }
  next();
}
