import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { startAppServer, type Account, type AppServer } from '../helpers/app-server.js';
import { startS3Server, type S3TestServer } from '../helpers/s3-server.js';
import {
  adminRow,
  publishOnVideosPage,
  readRowState,
  recordProgressValues,
  revokeOnUsersPage,
  throttleUploads,
  uploadOnVideosPage,
} from './admin-pages.js';
import { CHROMIUM_MISSING_MESSAGE, chromiumAvailable, launchChromium } from './chromium.js';
import { saveFailureArtifacts } from './failure-artifacts.js';
import { applyAppCorsRules, s3AppEnv } from './s3-app.js';
import {
  logIn,
  mediaResponseLine,
  openVideo,
  openWatchPage,
  play,
  readPlayer,
  seek,
  waitForGrantExpiry,
  waitForPlaybackPast,
  type WatchPage,
} from './watch-page.js';

/*
 * The admin pages in headless Debian Chromium against `node dist/server.js`: an admin revokes a viewer's
 * subscription while the viewer watches in another browser context, and an admin uploads and publishes a
 * video that a subscriber then plays.
 */

const runE2e = chromiumAvailable();
if (!runE2e) console.warn(CHROMIUM_MISSING_MESSAGE);

const TTL_SECONDS = 5;
const COLOUR_BARS = 'Colour bars and a 440 Hz tone';
const SEEK_TARGET_SECONDS = 12;
const PLAY_TIMEOUT_MS = 8_000;
const EXPIRY_WAIT_MAX_MS = 8_000;
const EXPIRY_TEST_TIMEOUT_MS = 40_000;
const E2E_PASSWORD = 'e2e-password-for-tests';
const SUBSCRIPTION_INACTIVE_MESSAGE = 'Your subscription is not active, so this video cannot be played.';
// The demo video is 384 KB, so the upload takes about 1.5 s and the progress bar shows steps below 100%.
const UPLOAD_BYTES_PER_SECOND = 256 * 1024;
const DEMO_VIDEO = path.resolve(import.meta.dirname, '../../demo/mandelbrot-zoom.mp4');

interface UploadCase {
  /** Name of the copy of the demo video that the admin picks. The app derives the title from it. */
  fileName: string;
  title: string;
  /** Start of the log line of the request that carries the file: to the app, or straight to the bucket. */
  uploadRequest: string;
  /** Start of the URLs the subscriber's player must get the bytes from: the app's /media/ path or the bucket. */
  mediaPrefix: string;
}

describe.skipIf(!runE2e)('admin e2e', () => {
  let browser: Browser;
  let uploadDir: string;
  // Every page a test opens, by role, so a failing test keeps the screenshot and log of each.
  const openPages = new Map<string, WatchPage>();

  beforeAll(async () => {
    browser = await launchChromium();
    uploadDir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgate-e2e-upload-'));
  });

  afterAll(async () => {
    await browser?.close();
    if (uploadDir) fs.rmSync(uploadDir, { recursive: true, force: true });
  });

  afterEach(async ({ task }) => {
    for (const [role, current] of openPages) {
      if (task.result?.state === 'fail') await saveFailureArtifacts(current, `${task.fullName} ${role}`);
      await current.close();
    }
    openPages.clear();
  });

  async function openPageAs(role: string): Promise<WatchPage> {
    const current = await openWatchPage(browser);
    openPages.set(role, current);
    return current;
  }

  /** Copies the demo video under a new name, so the upload gets a title of its own. */
  function copyDemoVideo(fileName: string): string {
    const copy = path.join(uploadDir, fileName);
    fs.copyFileSync(DEMO_VIDEO, copy);
    return copy;
  }

  /**
   * Uploads a copy of the demo video as `upload.fileName`, publishes it and checks that a subscriber can play
   * it only after that.
   */
  async function checkUploadPublishPlay(server: AppServer, upload: UploadCase): Promise<void> {
    const { title } = upload;
    const admin = await openPageAs('admin');
    const progressValues = await recordProgressValues(admin.page);
    await throttleUploads(admin.page, UPLOAD_BYTES_PER_SECOND);
    await logIn(admin.page, server.baseUrl, server.admin);

    const uploadFlash = await uploadOnVideosPage(admin.page, server.baseUrl, copyDemoVideo(upload.fileName));
    expect(uploadFlash).toBe(`Uploaded “${title}” as a draft. Check it, then publish it.`);
    expect(admin.log.filter((line) => line.startsWith(upload.uploadRequest))).toHaveLength(1);
    expect(progressValues.some((value) => value > 0 && value < 100)).toBe(true);
    expect(progressValues.at(-1)).toBe(100);
    expect(progressValues).toEqual([...progressValues].sort((a, b) => a - b));

    await admin.page.goto(`${server.baseUrl}/admin/videos`);
    expect(await readRowState(admin.page, title)).toBe('draft');

    const viewer = await openPageAs('subscriber');
    await logIn(viewer.page, server.baseUrl, server.subscriber);
    expect(await viewer.page.getByRole('link', { name: title }).count()).toBe(0);

    expect(await publishOnVideosPage(admin.page, server.baseUrl, title)).toBe(`Published “${title}”: subscribers can watch it now.`);
    expect(await readRowState(admin.page, title)).toBe('published');

    await viewer.page.reload();
    expect(await openVideo(viewer.page, title)).toBe(200);
    await play(viewer.page);
    await waitForPlaybackPast(viewer.page, 1.5, PLAY_TIMEOUT_MS);
    expect((await readPlayer(viewer.page)).errorCode).toBeNull();
    expect(viewer.log).toContainEqual(expect.stringMatching(mediaResponseLine(upload.mediaPrefix)));
  }

  describe('local storage', () => {
    let server: AppServer;

    beforeAll(async () => {
      server = await startAppServer({ MEDIA_URL_TTL_SECONDS: String(TTL_SECONDS) });
    });

    afterAll(async () => {
      await server?.stop();
    });

    it('revoke on users page stops the player', { timeout: EXPIRY_TEST_TIMEOUT_MS }, async () => {
      // A viewer of its own, so revoking leaves the demo subscriber for the upload test.
      const account: Account = { email: 'revoked-by-admin@example.com', password: E2E_PASSWORD };
      await server.runCli(['user', 'add', account.email, '--password-stdin'], account.password);
      await server.runCli(['subscription', 'set', account.email, '--active', 'true']);

      const viewer = await openPageAs('viewer');
      await logIn(viewer.page, server.baseUrl, account);
      expect(await openVideo(viewer.page, COLOUR_BARS)).toBe(200);
      await play(viewer.page);
      await waitForPlaybackPast(viewer.page, 1, PLAY_TIMEOUT_MS);

      const admin = await openPageAs('admin');
      await logIn(admin.page, server.baseUrl, server.admin);
      const flash = await revokeOnUsersPage(admin.page, server.baseUrl, account.email);
      expect(flash).toBe(`Revoked the subscription of ${account.email}. Their next playback request is refused.`);
      expect(await readRowState(admin.page, account.email)).toBe('inactive');
      expect(await adminRow(admin.page, account.email).getByRole('button', { name: 'Revoke' }).count()).toBe(0);

      await waitForGrantExpiry(viewer.page, viewer, EXPIRY_WAIT_MAX_MS);
      await seek(viewer.page, SEEK_TARGET_SECONDS);

      const message = viewer.page.locator('#player-message');
      await message.waitFor({ state: 'visible', timeout: PLAY_TIMEOUT_MS });
      expect((await message.textContent())?.trim()).toBe(SUBSCRIPTION_INACTIVE_MESSAGE);
      const state = await readPlayer(viewer.page);
      expect(state.paused).toBe(true);
      expect(state.networkState).toBe(0);
      expect(viewer.log).toContainEqual(expect.stringMatching(/^403 GET \S+\/api\/videos\/[^/]+\/playback$/));
    });

    it('uploaded video plays once published', async () => {
      await checkUploadPublishPlay(server, {
        fileName: 'mandelbrot-local-upload.mp4',
        title: 'mandelbrot local upload',
        uploadRequest: `201 POST ${server.baseUrl}/api/admin/uploads/stream`,
        mediaPrefix: `${server.baseUrl}/media/`,
      });
    });
  });

  // The browser PUTs the file straight to s3rver with a presigned URL. s3rver checks the expiry of presigned
  // URLs but never verifies their signatures, so this proves the browser flow and the CORS rules, not the
  // signing. The bucket gets the rules that `reelgate s3 cors` prints for the app's origin.
  describe('S3 redirect delivery', () => {
    let s3: S3TestServer;
    let server: AppServer;

    beforeAll(async () => {
      s3 = await startS3Server();
      server = await startAppServer({ MEDIA_URL_TTL_SECONDS: String(TTL_SECONDS), ...s3AppEnv(s3, 'redirect') });
      await applyAppCorsRules(s3, server.baseUrl);
    });

    afterAll(async () => {
      await server?.stop();
      await s3?.stop();
    });

    it('uploaded video plays once published', async () => {
      await checkUploadPublishPlay(server, {
        fileName: 'mandelbrot-s3-upload.mp4',
        title: 'mandelbrot s3 upload',
        uploadRequest: `200 PUT ${s3.endpoint}/${s3.bucket}/videos/`,
        mediaPrefix: `${s3.endpoint}/${s3.bucket}/`,
      });
    });
  });
});
