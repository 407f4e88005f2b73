import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { startAppServer, type Account, type AppServer } from '../helpers/app-server.js';
import { NGINX_MISSING_MESSAGE, nginxAvailable, startNginx, TEST_OFFLOAD_SECRET, type NginxServer } from '../helpers/nginx-server.js';
import { startS3Server, type S3TestServer } from '../helpers/s3-server.js';
import { CHROMIUM_MISSING_MESSAGE, chromiumAvailable, launchChromium } from './chromium.js';
import { saveFailureArtifacts } from './failure-artifacts.js';
import { s3AppEnv } from './s3-app.js';
import {
  countGrantRequests,
  logIn,
  mediaResponseLine,
  openVideo,
  openWatchPage,
  pause,
  play,
  readPlayer,
  seek,
  waitForGrantExpiry,
  waitForPlaybackPast,
  type WatchPage,
} from './watch-page.js';

/*
 * The watch page's player in headless Debian Chromium against `node dist/server.js`, with the shortest grant
 * lifetime the app allows, so a seek after a few seconds needs a new grant.
 */

const runE2e = chromiumAvailable();
if (!runE2e) console.warn(CHROMIUM_MISSING_MESSAGE);
const runNginx = nginxAvailable();
if (!runNginx) console.warn(NGINX_MISSING_MESSAGE);

const TTL_SECONDS = 5;
// 20 seconds long, so a seek to 12 s lands well inside it.
const COLOUR_BARS = 'Colour bars and a 440 Hz tone';
const SEEK_TARGET_SECONDS = 12;
const PLAY_TIMEOUT_MS = 8_000;
const EXPIRY_WAIT_MAX_MS = 8_000;
const EXPIRY_TEST_TIMEOUT_MS = 40_000;
const E2E_PASSWORD = 'e2e-password-for-tests';
const SUBSCRIPTION_INACTIVE_MESSAGE = 'Your subscription is not active, so this video cannot be played.';

describe.skipIf(!runE2e)('player e2e', () => {
  let browser: Browser;
  let watchPage: WatchPage | undefined;

  beforeAll(async () => {
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
  });

  afterEach(async ({ task }) => {
    if (watchPage && task.result?.state === 'fail') await saveFailureArtifacts(watchPage, task.fullName);
    await watchPage?.close();
    watchPage = undefined;
  });

  async function newWatchPage(): Promise<WatchPage> {
    watchPage = await openWatchPage(browser);
    return watchPage;
  }

  async function addUser(server: AppServer, email: string, subscribed: boolean): Promise<Account> {
    await server.runCli(['user', 'add', email, '--password-stdin'], E2E_PASSWORD);
    if (subscribed) await server.runCli(['subscription', 'set', email, '--active', 'true']);
    return { email, password: E2E_PASSWORD };
  }

  /** `mediaPrefix` is where the bytes must come from: the app's /media/ path or the S3 bucket. */
  async function checkSubscriberPlays(server: AppServer, mediaPrefix: string): Promise<WatchPage> {
    const current = await newWatchPage();
    const { page } = current;
    await logIn(page, server.baseUrl, server.subscriber);

    expect(await openVideo(page, COLOUR_BARS)).toBe(200);
    await play(page);
    await waitForPlaybackPast(page, 1.5, PLAY_TIMEOUT_MS);

    expect((await readPlayer(page)).errorCode).toBeNull();
    expect(current.log).toContainEqual(expect.stringMatching(mediaResponseLine(mediaPrefix)));
    return current;
  }

  async function checkSeekAfterExpiry(server: AppServer): Promise<void> {
    const current = await newWatchPage();
    const { page } = current;
    await logIn(page, server.baseUrl, server.subscriber);
    expect(await openVideo(page, COLOUR_BARS)).toBe(200);
    await play(page);
    await waitForPlaybackPast(page, 1, PLAY_TIMEOUT_MS);
    await pause(page);

    await waitForGrantExpiry(page, current, EXPIRY_WAIT_MAX_MS);
    await seek(page, SEEK_TARGET_SECONDS);
    await play(page);
    await waitForPlaybackPast(page, SEEK_TARGET_SECONDS + 0.5, PLAY_TIMEOUT_MS);

    const state = await readPlayer(page);
    expect(state.errorCode).toBeNull();
    expect(state.paused).toBe(false);
    expect(countGrantRequests(current)).toBe(2);
  }

  describe('local storage', () => {
    let server: AppServer;

    beforeAll(async () => {
      server = await startAppServer({ MEDIA_URL_TTL_SECONDS: String(TTL_SECONDS) });
    });

    afterAll(async () => {
      await server?.stop();
    });

    it('subscriber plays a video', async () => {
      await checkSubscriberPlays(server, `${server.baseUrl}/media/`);
    });

    it('seek after expiry resumes playback', { timeout: EXPIRY_TEST_TIMEOUT_MS }, async () => {
      await checkSeekAfterExpiry(server);
    });

    it('fast clock causes no grant loop', async () => {
      const current = await newWatchPage();
      const { page } = current;
      // A browser clock an hour ahead of the server's: every grant looks expired if compared on that clock.
      await page.clock.setFixedTime(Date.now() + 60 * 60_000);
      await logIn(page, server.baseUrl, server.subscriber);

      expect(await openVideo(page, COLOUR_BARS)).toBe(200);
      await play(page);
      await waitForPlaybackPast(page, 1.5, PLAY_TIMEOUT_MS);

      expect(countGrantRequests(current)).toBe(1);
      expect((await readPlayer(page)).errorCode).toBeNull();
    });

    it('non-subscriber gets the subscription page', async () => {
      const account = await addUser(server, 'no-subscription@example.com', false);
      const { page } = await newWatchPage();
      await logIn(page, server.baseUrl, account);

      expect(await openVideo(page, COLOUR_BARS)).toBe(403);
      expect(await page.locator('p.error').textContent()).toBe('A subscription is needed to watch this video.');
      expect(await page.locator('video').count()).toBe(0);
      expect(await page.content()).not.toContain('/media/');
    });

    it('revocation stops the player', { timeout: EXPIRY_TEST_TIMEOUT_MS }, async () => {
      // A subscriber of its own, so revoking does not affect the other tests.
      const account = await addUser(server, 'revoked@example.com', true);
      const current = await newWatchPage();
      const { page } = current;
      await logIn(page, server.baseUrl, account);
      expect(await openVideo(page, COLOUR_BARS)).toBe(200);
      await play(page);
      await waitForPlaybackPast(page, 1, PLAY_TIMEOUT_MS);

      await server.runCli(['subscription', 'set', account.email, '--active', 'false']);
      await waitForGrantExpiry(page, current, EXPIRY_WAIT_MAX_MS);
      await seek(page, SEEK_TARGET_SECONDS);

      const message = page.locator('#player-message');
      await message.waitFor({ state: 'visible', timeout: PLAY_TIMEOUT_MS });
      expect((await message.textContent())?.trim()).toBe(SUBSCRIPTION_INACTIVE_MESSAGE);
      const state = await readPlayer(page);
      expect(state.paused).toBe(true);
      expect(state.networkState).toBe(0);
      expect(current.log).toContainEqual(expect.stringMatching(/^403 GET \S+\/api\/videos\/[^/]+\/playback$/));
    });
  });

  // s3rver checks the expiry of presigned URLs but never verifies their signatures, so these tests prove
  // that the browser plays from S3 and gets a new URL after expiry, not that the URLs are signed correctly.
  // s3rver sends no CORS headers here, which a plain <video src> does not need.
  describe('S3 redirect delivery', () => {
    let s3: S3TestServer;
    let server: AppServer;

    beforeAll(async () => {
      s3 = await startS3Server();
      server = await startAppServer({ MEDIA_URL_TTL_SECONDS: String(TTL_SECONDS), ...s3AppEnv(s3, 'redirect') });
    });

    afterAll(async () => {
      await server?.stop();
      await s3?.stop();
    });

    it('subscriber plays a video', async () => {
      await checkSubscriberPlays(server, `${s3.endpoint}/${s3.bucket}/`);
    });

    it('seek after expiry resumes playback', { timeout: EXPIRY_TEST_TIMEOUT_MS }, async () => {
      await checkSeekAfterExpiry(server);
    });
  });

  // The grant is the app's own signed /media/ URL, which the app checks, and the app streams the object
  // that it reads from s3rver, so the browser never contacts s3rver. s3rver checks the expiry of presigned
  // URLs but never verifies SigV4 signatures, so these tests do not prove that the app signs its S3 reads.
  describe('S3 proxy delivery', () => {
    let s3: S3TestServer;
    let server: AppServer;

    beforeAll(async () => {
      s3 = await startS3Server();
      server = await startAppServer({ MEDIA_URL_TTL_SECONDS: String(TTL_SECONDS), ...s3AppEnv(s3, 'proxy') });
    });

    afterAll(async () => {
      await server?.stop();
      await s3?.stop();
    });

    it('subscriber plays a video', async () => {
      const current = await checkSubscriberPlays(server, `${server.baseUrl}/media/`);

      expect(current.log.filter((line) => line.includes(s3.endpoint))).toEqual([]);
    });

    it('seek after expiry resumes playback', { timeout: EXPIRY_TEST_TIMEOUT_MS }, async () => {
      await checkSeekAfterExpiry(server);
    });
  });

  // Chromium talks to nginx only. The app checks every request and responds with X-Accel-Redirect, and nginx
  // fetches the range from s3rver with the headers the app signed (s3rver does not verify them).
  describe.skipIf(!runNginx)('S3 proxy delivery with MEDIA_OFFLOAD=nginx', () => {
    let s3: S3TestServer;
    let server: AppServer;
    let nginx: NginxServer;
    let throughNginx: AppServer;

    beforeAll(async () => {
      s3 = await startS3Server();
      server = await startAppServer({
        MEDIA_URL_TTL_SECONDS: String(TTL_SECONDS),
        ...s3AppEnv(s3, 'proxy'),
        MEDIA_OFFLOAD: 'nginx',
        MEDIA_OFFLOAD_SECRET: TEST_OFFLOAD_SECRET,
        TRUST_PROXY: '1',
      });
      nginx = await startNginx(Number(new URL(server.baseUrl).port));
      throughNginx = { ...server, baseUrl: nginx.baseUrl };
    });

    afterAll(async () => {
      await nginx?.stop();
      await server?.stop();
      await s3?.stop();
    });

    it('subscriber plays a video', async () => {
      const current = await checkSubscriberPlays(throughNginx, `${nginx.baseUrl}/media/`);

      expect(current.log.filter((line) => line.includes(s3.endpoint) || line.includes(server.baseUrl))).toEqual([]);
    });

    it('seek after expiry resumes playback', { timeout: EXPIRY_TEST_TIMEOUT_MS }, async () => {
      await checkSeekAfterExpiry(throughNginx);
    });
  });
});
