/**
 * Typed HTTP errors. `message` is written for the person at the browser and is the only text a client ever
 * sees; internal details go to the log through `cause`.
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'HttpError';
  }
}

export const BAD_REQUEST_400 = 400;
export const UNAUTHORIZED_401 = 401;
export const FORBIDDEN_403 = 403;
export const NOT_FOUND_404 = 404;
export const RANGE_NOT_SATISFIABLE_416 = 416;
export const TOO_MANY_REQUESTS_429 = 429;
export const INTERNAL_SERVER_ERROR_500 = 500;
export const SERVICE_UNAVAILABLE_503 = 503;

export const badRequest = (code: string, message: string) => new HttpError(BAD_REQUEST_400, code, message);

export const notLoggedIn = () =>
  new HttpError(UNAUTHORIZED_401, 'NOT_LOGGED_IN', 'You are not logged in. Log in and try again.');

export const forbidden = (code: string, message: string) => new HttpError(FORBIDDEN_403, code, message);

export const notFound = (message = 'This page does not exist.') => new HttpError(NOT_FOUND_404, 'NOT_FOUND', message);

/** A dependency (database, storage) failed; the cause is logged, the client sees a generic text. */
export const unavailable = (what: string, cause: unknown) =>
  new HttpError(
    SERVICE_UNAVAILABLE_503,
    'SERVICE_UNAVAILABLE',
    `The ${what} is not answering right now. Try again in a minute.`,
    { cause },
  );
