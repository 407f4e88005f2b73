import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';

import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { passwordProblem } from '../../src/auth/passwords.js';
import { DEMO_ADMIN_EMAIL, DEMO_DIR, DEMO_VIEWER_EMAIL, printDemoAccounts, seedDemo, type DemoAccounts } from '../../src/demo/seed-demo.js';
import { findSubscription } from '../../src/subscriptions/subscription-repository.js';
import { countUsers, findUserByEmail } from '../../src/users/user-repository.js';
import { listVideos } from '../../src/videos/video-repository.js';
import { addDemoVideo, addUser, createTestApp, loginAgent, type TestApp } from '../helpers/test-app.js';

let testApp: TestApp;
let logLines: string[];

/** A logger at the most verbose level that keeps its lines, to check what the seed logs. */
function capturingLogger() {
  logLines = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logLines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      callback();
    },
  });
  return pino({ level: 'trace' }, sink);
}

function seed() {
  return seedDemo({ db: testApp.context.db, storage: testApp.context.storage, log: capturingLogger() });
}

beforeEach(async () => {
  testApp = await createTestApp({ SEED_DEMO: 'false' });
});

afterEach(() => testApp.close());

describe('seedDemo on an empty database', () => {
  let accounts: DemoAccounts | null;

  beforeEach(async () => {
    accounts = await seed();
  });

  it('returns the two demo accounts with acceptable random passwords', () => {
    expect(accounts?.admin.email).toBe(DEMO_ADMIN_EMAIL);
    expect(accounts?.viewer.email).toBe(DEMO_VIEWER_EMAIL);
    expect(passwordProblem(accounts!.admin.password)).toBeNull();
    expect(passwordProblem(accounts!.viewer.password)).toBeNull();
    expect(accounts!.admin.password).not.toBe(accounts!.viewer.password);
  });

  it('adds the two demo videos, oldest first, with their durations, sizes and posters', async () => {
    const videos = await listVideos(testApp.context.db, { publishedOnly: true });

    expect(videos.map((video) => [video.title, video.durationSeconds, video.contentType])).toEqual([
      ['Colour bars and a 440 Hz tone', 20, 'video/mp4'],
      ['Mandelbrot zoom', 15, 'video/mp4'],
    ]);
    const files = [
      ['color-bars.mp4', 'color-bars.jpg'],
      ['mandelbrot-zoom.mp4', 'mandelbrot-zoom.jpg'],
    ];
    for (const [index, video] of videos.entries()) {
      const [videoFile, posterFile] = files[index]!;
      const videoSize = fs.statSync(path.join(DEMO_DIR, videoFile!)).size;
      expect(video.sizeBytes).toBe(videoSize);
      expect((await testApp.context.storage.stat(video.storageKey))?.size).toBe(videoSize);
      expect(video.posterKey).not.toBeNull();
      expect((await testApp.context.storage.stat(video.posterKey!))?.size).toBe(fs.statSync(path.join(DEMO_DIR, posterFile!)).size);
    }
  });

  it('makes admin@example.com an admin and gives viewer@example.com an active subscription with no end', async () => {
    const admin = await findUserByEmail(testApp.context.db, DEMO_ADMIN_EMAIL);
    const viewer = await findUserByEmail(testApp.context.db, DEMO_VIEWER_EMAIL);

    expect(admin?.isAdmin).toBe(true);
    expect(viewer?.isAdmin).toBe(false);
    expect(await findSubscription(testApp.context.db, viewer!.id)).toMatchObject({ active: true, endsAt: null });
    expect(await countUsers(testApp.context.db)).toBe(2);
  });

  it('returns passwords that log in, and the subscriber gets a playback grant', async () => {
    const [video] = await listVideos(testApp.context.db, { publishedOnly: true });
    const viewer = await loginAgent(testApp.app, DEMO_VIEWER_EMAIL, accounts!.viewer.password);
    const admin = await loginAgent(testApp.app, DEMO_ADMIN_EMAIL, accounts!.admin.password);

    const grant = await viewer.get(`/api/videos/${video!.id}/playback`).expect(200);

    expect(grant.body.url).toEqual(expect.any(String));
    await admin.get(`/api/videos/${video!.id}/playback`).expect(200);
  });

  it('never logs a password', () => {
    expect(logLines.length).toBeGreaterThan(0);
    for (const line of logLines) {
      expect(line).not.toContain(accounts!.admin.password);
      expect(line).not.toContain(accounts!.viewer.password);
    }
  });

  it('does nothing on a second call', async () => {
    const videosBefore = await listVideos(testApp.context.db, { publishedOnly: false });

    expect(await seed()).toBeNull();

    expect(await listVideos(testApp.context.db, { publishedOnly: false })).toEqual(videosBefore);
    expect(await countUsers(testApp.context.db)).toBe(2);
    // The first passwords still work: the second call changed no account.
    await loginAgent(testApp.app, DEMO_VIEWER_EMAIL, accounts!.viewer.password);
  });
});

describe('seedDemo on a database in use', () => {
  it('does nothing when a user exists', async () => {
    await addUser(testApp, 'owner@example.com', { admin: true });

    expect(await seed()).toBeNull();

    expect(await listVideos(testApp.context.db, { publishedOnly: false })).toEqual([]);
    expect(await countUsers(testApp.context.db)).toBe(1);
  });

  it('does nothing when a video exists', async () => {
    await addDemoVideo(testApp, 'Our own film');

    expect(await seed()).toBeNull();

    expect(await countUsers(testApp.context.db)).toBe(0);
    expect((await listVideos(testApp.context.db, { publishedOnly: false })).map((video) => video.title)).toEqual(['Our own film']);
  });
});

describe('printDemoAccounts', () => {
  it('writes each password exactly once, next to its email, with the site URL', () => {
    const accounts: DemoAccounts = {
      admin: { email: DEMO_ADMIN_EMAIL, password: 'admin-password-123' },
      viewer: { email: DEMO_VIEWER_EMAIL, password: 'viewer-password-456' },
    };
    let text = '';

    printDemoAccounts(accounts, 'http://localhost:3000', (chunk) => {
      text += chunk;
    });

    expect(text.split('admin-password-123')).toHaveLength(2);
    expect(text.split('viewer-password-456')).toHaveLength(2);
    expect(text).toContain(`admin:      ${DEMO_ADMIN_EMAIL}  admin-password-123\n`);
    expect(text).toContain(`subscriber: ${DEMO_VIEWER_EMAIL}  viewer-password-456\n`);
    expect(text).toContain('Open http://localhost:3000 and log in.');
  });
});
