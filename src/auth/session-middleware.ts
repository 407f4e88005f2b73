import session from 'express-session';

import type { AppContext } from '../http/context.js';
import './session-data.js';

export const SESSION_COOKIE_NAME = 'reelgate.sid';

export function sessionMiddleware(context: AppContext) {
  return session({
    name: SESSION_COOKIE_NAME,
    secret: context.secrets.sessionSecret,
    store: context.sessionStore,
    resave: false,
    // No row for visitors who never log in or submit a form.
    saveUninitialized: false,
    // Each request pushes the expiry forward, so SESSION_IDLE_MINUTES is an idle timeout.
    rolling: true,
    cookie: {
      httpOnly: true,
      sameSite: 'lax',
      // Secure whenever the request came over TLS, as Express sees it (TRUST_PROXY makes a proxy's
      // X-Forwarded-Proto count), so a plain-HTTP first run on localhost still works.
      secure: 'auto',
      maxAge: context.config.sessionIdleMs,
      path: '/',
    },
  });
}
