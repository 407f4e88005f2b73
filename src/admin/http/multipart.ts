import type { Request } from 'express';
import busboy, { type Busboy, type Limits } from 'busboy';

import { HttpError } from '../../errors.js';
import { UNSUPPORTED_MEDIA_TYPE_415 } from './admin-errors.js';

/** Starts a streaming multipart/form-data parser on `req`; the caller pipes req into it. */
export function multipartParser(req: Request, limits: Limits): Busboy {
  if (!req.is('multipart/form-data')) {
    throw new HttpError(UNSUPPORTED_MEDIA_TYPE_415, 'NOT_MULTIPART', 'Send the file as a multipart/form-data upload from the form on this page.');
  }

  try {
    return busboy({ headers: req.headers, limits });
  } catch (err) {
    // busboy throws for a multipart Content-Type without a boundary.
    throw new HttpError(UNSUPPORTED_MEDIA_TYPE_415, 'NOT_MULTIPART', 'The upload could not be read. Use the form on this page.', { cause: err });
  }
}
