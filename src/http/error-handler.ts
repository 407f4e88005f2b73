import type { NextFunction, Request, Response } from 'express';

import { HttpError, notFound } from '../errors.js';
import type { Logger } from '../logger.js';
import { wantsJson } from './wants-json.js';

const SERVER_ERROR_MESSAGE = 'Something went wrong on our side. Try again in a minute.';

export function notFoundHandler(_req: Request, _res: Response, next: NextFunction): void {
  next(notFound());
}

/**
 * The one error handler. Only an HttpError's own message reaches the client. Any other error is logged with
 * its stack and the client gets a generic sentence, so no database, S3 or file-system text leaks.
 */
export function errorHandler(log: Logger) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const error = toHttpError(err);
    logError(log, error, err, req);

    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.status(error.status);
    if (error.status >= 400 && error.status < 500) res.setHeader('Cache-Control', 'no-store');
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    if (wantsJson(req)) {
      res.json({ error: { code: error.code, message: error.message } });
      return;
    }
    res.render('error', { status: error.status, message: error.message });
  };
}

function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  const status = (err as { status?: unknown; statusCode?: unknown })?.status ?? (err as { statusCode?: unknown })?.statusCode;
  const code = (err as { code?: unknown })?.code;

  if (code === 'EBADCSRFTOKEN' || (status === 403 && (err as Error)?.message === 'invalid csrf token')) {
    return new HttpError(403, 'INVALID_CSRF_TOKEN', 'This form has expired or was not sent from this site. Reload the page and try again.');
  }
  // body-parser and similar middleware mark client mistakes with a 4xx status.
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new HttpError(status, 'BAD_REQUEST', 'The request could not be read. Check what you sent and try again.', { cause: err });
  }
  if (isUnreachableDependency(err)) {
    return new HttpError(503, 'SERVICE_UNAVAILABLE', 'A service this site depends on is not answering. Try again in a minute.', { cause: err });
  }
  return new HttpError(500, 'INTERNAL_ERROR', SERVER_ERROR_MESSAGE, { cause: err });
}

/** Network failures on the way to PostgreSQL or S3: the app is fine, a dependency is down or overloaded. */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', '57P01', '57P03', '53300']);

function isUnreachableDependency(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  const name = (err as { name?: unknown })?.name;
  return (typeof code === 'string' && UNREACHABLE_CODES.has(code)) || name === 'TimeoutError';
}

function logError(log: Logger, error: HttpError, original: unknown, req: Request): void {
  const fields = { status: error.status, code: error.code, method: req.method, path: req.path };
  if (error.status >= 500) {
    log.error({ ...fields, err: error.cause ?? original }, 'request failed');
  } else if (error.code === 'INVALID_CSRF_TOKEN' || error.code === 'BAD_REQUEST') {
    log.warn(fields, 'rejected a malformed or forged request');
  } else {
    log.debug(fields, 'request rejected');
  }
}
