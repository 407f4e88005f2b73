import { HttpError } from '../../errors.js';

export const CONFLICT_409 = 409;
export const PAYLOAD_TOO_LARGE_413 = 413;
export const UNSUPPORTED_MEDIA_TYPE_415 = 415;

export const conflict = (code: string, message: string) => new HttpError(CONFLICT_409, code, message);
