import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Paths that must never reach a log line: credentials, session ids and signed media URLs (a logged presigned
 * URL is a working grant for anyone who reads the log).
 */
const REDACTED_PATHS = [
  'password',
  '*.password',
  'req.headers.cookie',
  'req.headers.authorization',
  'res.headers["set-cookie"]',
  'req.query.sig',
  'url',
  '*.url',
  'sessionId',
  '*.sessionId',
];

export function createLogger(level: string): Logger {
  return pino({
    level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: { app: 'reelgate' },
  });
}
