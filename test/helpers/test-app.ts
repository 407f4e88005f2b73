import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type { Express } from 'express';
import request from 'supertest';

import { createApp } from '../../src/app.js';
import { hashPassword } from '../../src/auth/passwords.js';
import { DatabaseSessionStore } from '../../src/auth/session-store.js';
import { loadConfig, type Config } from '../../src/config.js';
import { buildAppContext, type AppContext } from '../../src/http/context.js';
import { createLogger } from '../../src/logger.js';
import { openServices, type Services } from '../../src/services.js';
import { setSubscription } from '../../src/subscriptions/subscription-repository.js';
import { createUser, type User } from '../../src/users/user-repository.js';
import { addVideoFromFile } from '../../src/videos/add-video.js';
import type { Video } from '../../src/videos/video-repository.js';
import { databaseEnvFor } from './test-database.js';

export const DEMO_VIDEO = path.resolve(import.meta.dirname, '../../demo/color-bars.mp4');
export const DEMO_POSTER = path.resolve(import.meta.dirname, '../../demo/color-bars.jpg');
export const PASSWORD = 'correct horse battery staple';

export interface TestApp {
  app: Express;
  context: AppContext;
  services: Services;
  config: Config;
  dataDir: string;
  /** Moves the app's clock; tests use it to pass expiry times without waiting. */
  clock: { now: Date };
  close(): Promise<void>;
}

/** Builds a fresh app on its own temporary DATA_DIR (SQLite and local storage unless `env` sets otherwise). */
export async function createTestApp(env: Record<string, string> = {}, dataDir?: string): Promise<TestApp> {
  const dir = dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'reelgate-test-'));
  const config = loadConfig({ NODE_ENV: 'test', DATA_DIR: dir, ...(await databaseEnvFor(dir)), ...env });
  const services = await openServices(config);
  const clock = { now: new Date() };
  const log = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
  const sessionStore = new DatabaseSessionStore(services.database.db, { defaultTtlMs: config.sessionIdleMs });
  const context = buildAppContext(config, services, { log, sessionStore, now: () => clock.now });
  return {
    app: createApp(context),
    context,
    services,
    config,
    dataDir: dir,
    clock,
    close: async () => {
      sessionStore.close();
      await services.close();
    },
  };
}

export async function addUser(
  testApp: TestApp,
  email: string,
  options: { admin?: boolean; subscription?: { active: boolean; endsAt?: Date | null } } = {},
): Promise<User> {
  const user = await createUser(testApp.context.db, { email, passwordHash: await hashPassword(PASSWORD), isAdmin: options.admin === true });
  if (options.subscription) {
    await setSubscription(testApp.context.db, { userId: user.id, active: options.subscription.active, endsAt: options.subscription.endsAt ?? null });
  }
  return user;
}

export async function addDemoVideo(testApp: TestApp, title = 'Colour bars', filePath = DEMO_VIDEO): Promise<Video> {
  return addVideoFromFile({ db: testApp.context.db, storage: testApp.context.storage }, { filePath, title, posterPath: DEMO_POSTER });
}

/** Reads the CSRF token out of a rendered form. */
export function csrfTokenFrom(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!match?.[1]) throw new Error('no CSRF token in the page');
  return match[1];
}

/** Returns a supertest agent that keeps cookies, logged in as `email`. */
export async function loginAgent(app: Express, email: string, password = PASSWORD) {
  const agent = request.agent(app);
  const page = await agent.get('/login').expect(200);
  await agent
    .post('/login')
    .type('form')
    .send({ _csrf: csrfTokenFrom(page.text), email, password })
    .expect(303);
  return agent;
}

/** Returns the value of the session cookie in a response's Set-Cookie header, or undefined. */
export function sessionCookieOf(setCookie: string[] | string | undefined): string | undefined {
  let cookies: string[] = [];
  if (Array.isArray(setCookie)) cookies = setCookie;
  else if (setCookie) cookies = [setCookie];
  const cookie = cookies.find((line) => line.startsWith('reelgate.sid='));
  return cookie?.split(';')[0]?.slice('reelgate.sid='.length);
}
