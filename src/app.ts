import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { csrfSync } from 'csrf-sync';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import { pinoHttp } from 'pino-http';

import { adminRouter } from './admin/admin-router.js';
import { authRouter } from './auth/auth-routes.js';
import { loadCurrentUser } from './auth/current-user.js';
import { endExpiredSessions } from './auth/session-lifetime.js';
import { sessionMiddleware } from './auth/session-middleware.js';
import { catalogueRouter } from './catalogue/catalogue-routes.js';
import type { AppContext } from './http/context.js';
import { errorHandler, notFoundHandler } from './http/error-handler.js';
import { healthRouter } from './http/health-routes.js';
import type { ReelgateLocals } from './http/locals.js';
import { playbackRouter } from './playback/playback-routes.js';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// The player's HLS library, served from the installed package: no CDN, so the CSP stays 'self'.
const HLS_JS_FILE = path.join(projectRoot, 'node_modules/hls.js/dist/hls.min.js');

/** Builds the Express app without listening, so tests can drive it with supertest. */
export function createApp(context: AppContext): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', context.config.trustProxy);
  app.set('view engine', 'ejs');
  app.set('views', path.join(projectRoot, 'views'));
  app.locals.siteName = context.config.siteName;

  app.use(requestLogger(context));
  app.use(securityHeaders(context));
  app.get('/static/vendor/hls.min.js', (_req, res) => res.sendFile(HLS_JS_FILE, { maxAge: '1h' }));
  app.use('/static', express.static(path.join(projectRoot, 'public'), { maxAge: '1h', index: false }));
  app.use(healthRouter(context));

  app.use(express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 50 }));
  app.use(sessionMiddleware(context));
  app.use(endExpiredSessions(context));
  app.use(loadCurrentUser(context));
  app.use(csrfProtection());

  app.use(authRouter(context));
  app.use(catalogueRouter(context));
  app.use(playbackRouter(context));
  app.use(adminRouter(context));

  app.use(notFoundHandler);
  app.use(errorHandler(context.log));
  return app;
}

function requestLogger(context: AppContext) {
  return pinoHttp({
    logger: context.log,
    // Paths only: media URLs carry signatures in their query string and must never be logged.
    serializers: {
      req: (req: { method: string; url: string; id: unknown }) => ({ id: req.id, method: req.method, path: req.url.split('?')[0] }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
    customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : 'debug'),
    autoLogging: { ignore: (req) => req.url === '/healthz' || req.url?.startsWith('/static/') === true },
  });
}

/**
 * helmet's defaults plus a CSP that lets media, images and fetches reach this site and, in S3 redirect
 * delivery, exactly the storage origin that presigned URLs point at.
 */
function securityHeaders(context: AppContext) {
  const storageOrigin = context.config.delivery === 'redirect' ? context.storage.publicOrigin() : null;
  const withStorage = storageOrigin ? ["'self'", storageOrigin] : ["'self'"];
  return helmet({
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: [...withStorage, 'data:'],
        mediaSrc: [...withStorage, 'blob:'],
        // Admin uploads to S3 go from the browser straight to the bucket, whatever the delivery mode.
        connectSrc: context.config.storage === 's3' ? ["'self'", context.storage.publicOrigin()!] : withStorage,
        objectSrc: ["'none'"],
        frameAncestors: ["'self'"],
        formAction: ["'self'"],
        baseUri: ["'self'"],
        upgradeInsecureRequests: null,
      },
    },
    // Media elements load cross-origin presigned URLs without CORS; COEP would block them.
    crossOriginEmbedderPolicy: false,
    referrerPolicy: { policy: 'same-origin' },
  });
}

/** Synchronizer-token CSRF protection for every POST; views read the token through res.locals.csrfToken(). */
function csrfProtection() {
  const { csrfSynchronisedProtection, generateToken } = csrfSync({
    getTokenFromRequest: (req) => (typeof req.body?._csrf === 'string' ? req.body._csrf : req.get('x-csrf-token')),
  });
  return [
    (req: Request, res: Response, next: NextFunction) => {
      (res.locals as ReelgateLocals).csrfToken = () => generateToken(req);
      next();
    },
    csrfSynchronisedProtection,
  ];
}
