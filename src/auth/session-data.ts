import 'express-session';

declare module 'express-session' {
  interface SessionData {
    userId?: string;
    /** When the user logged in (epoch ms). */
    loginAt?: number;
    /** Where to go after login: a same-site path, checked when it is stored. */
    returnTo?: string;
    flash?: { kind: 'info' | 'error'; text: string };
  }
}
