import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Express, Request, Response } from 'express';

import { hashPassword } from '../src/auth/passwords.js';
import type { Db } from '../src/db/database.js';
import { notFoundHandler } from '../src/http/error-handler.js';
import { setSubscription } from '../src/subscriptions/subscription-repository.js';
import { createUser } from '../src/users/user-repository.js';
import { insertVideo, type Video } from '../src/videos/video-repository.js';
import { createTestApp } from '../test/helpers/test-app.js';
import { BARE_PATH } from './bare-route.js';
import { stopWhenOrphaned } from './child-process.js';

/*
 * One reelgate app for the benchmark, in its own process so that its RSS and CPU are measured apart from
 * the load generator. It seeds its own database, listens on a random loopback port and prints one JSON line
 * (AppProcessReady). It stops on SIGTERM, when its parent goes away, or after MAX_LIFETIME_MS.
 */

const MAX_LIFETIME_MS = 10 * 60_000;

export interface AppProcessOptions {
  env: Record<string, string>;
  /** Catalogue rows besides the media video; their storage keys point at no object. */
  extraVideos: number;
  extraUsers: number;
  media: { key: string; sizeBytes: number; contentType: string };
}

export interface AppProcessReady {
  baseUrl: string;
  videoId: string;
  subscriberEmail: string;
  adminEmail: string;
  /** Shared by both accounts; random per run, sent to the parent only. */
  password: string;
}

const options = JSON.parse(process.argv[2] ?? '{}') as AppProcessOptions;
const testApp = await createTestApp(options.env);

const password = randomBytes(18).toString('base64url');
const passwordHash = await hashPassword(password);
const video = await seed(testApp.context.db, options, passwordHash);

mountBeforeNotFound(testApp.app, BARE_PATH, (_req: Request, res: Response) => {
  res.json({ ok: true });
});

const server = testApp.app.listen(0, '127.0.0.1');
await new Promise<void>((resolve) => server.once('listening', () => resolve()));

stopWhenOrphaned(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await testApp.close();
  fs.rmSync(testApp.dataDir, { recursive: true, force: true });
}, MAX_LIFETIME_MS);

const ready: AppProcessReady = {
  baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
  videoId: video.id,
  subscriberEmail: 'subscriber@bench.test',
  adminEmail: 'admin@bench.test',
  password,
};
process.stdout.write(`${JSON.stringify(ready)}\n`);

async function seed(db: Db, seedOptions: AppProcessOptions, hash: string): Promise<Video> {
  const subscriber = await createUser(db, { email: 'subscriber@bench.test', passwordHash: hash, isAdmin: false });
  await setSubscription(db, { userId: subscriber.id, active: true, endsAt: null });
  await createUser(db, { email: 'admin@bench.test', passwordHash: hash, isAdmin: true });

  const mediaVideo = await insertVideo(db, {
    title: 'Benchmark object',
    description: 'Random bytes',
    storageKey: seedOptions.media.key,
    contentType: seedOptions.media.contentType,
    sizeBytes: seedOptions.media.sizeBytes,
    durationSeconds: null,
    posterKey: null,
    published: true,
  });

  // One transaction keeps 10,000 SQLite inserts to about a second instead of one fsync each.
  await db.transaction().execute(async (transaction) => {
    for (let i = 0; i < seedOptions.extraVideos; i += 1) {
      await insertVideo(transaction, {
        title: `Catalogue video ${i}`,
        description: `Description of catalogue video ${i}`,
        storageKey: `catalogue/${i}.mp4`,
        contentType: 'video/mp4',
        sizeBytes: 1_000_000 + i,
        durationSeconds: 60 + (i % 3600),
        posterKey: null,
        published: true,
      });
    }
    for (let i = 0; i < seedOptions.extraUsers; i += 1) {
      const user = await createUser(transaction, { email: `user${String(i).padStart(5, '0')}@bench.test`, passwordHash: hash, isAdmin: false });
      if (i % 2 === 0) await setSubscription(transaction, { userId: user.id, active: true, endsAt: null });
    }
  });

  return mediaVideo;
}

/** Adds a GET route after the app's routers but before its 404 handler, so it runs the whole middleware pipeline. */
function mountBeforeNotFound(app: Express, routePath: string, handler: (req: Request, res: Response) => void): void {
  app.get(routePath, handler);

  const stack = app.router.stack;
  const added = stack.pop()!;
  const notFoundIndex = stack.findIndex((layer) => layer.handle === notFoundHandler);
  if (notFoundIndex < 0) throw new Error('The app has no 404 handler layer to mount the bare route before');
  stack.splice(notFoundIndex, 0, added);
}
