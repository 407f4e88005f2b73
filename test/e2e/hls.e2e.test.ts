import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { startAppServer, type AppServer } from '../helpers/app-server.js';
import { CHROMIUM_MISSING_MESSAGE, chromiumAvailable, launchChromium } from './chromium.js';
import { saveFailureArtifacts } from './failure-artifacts.js';
import { logIn, openVideo, openWatchPage, play, readPlayer, waitForPlaybackPast, type WatchPage } from './watch-page.js';

/*
 * HLS in headless Debian Chromium against `node dist/server.js`: the server's own worker transcodes the
 * demo videos with ffmpeg, then the watch page plays the renditions through hls.js. Grants last 5 s, so
 * playing past 10 s of the 20 s video outlives the first segment grants.
 */

const runE2e = chromiumAvailable();
if (!runE2e) console.warn(CHROMIUM_MISSING_MESSAGE);

const TTL_SECONDS = 5;
const COLOUR_BARS = 'Colour bars and a 440 Hz tone';
const TRANSCODE_TIMEOUT_MS = 40_000;
const PLAY_PAST_SECONDS = 10.5;
const PLAY_TIMEOUT_MS = 20_000;

interface ListedVideo {
  title: string;
  hls: string;
}

async function waitForHls(server: AppServer, title: string): Promise<void> {
  const deadline = Date.now() + TRANSCODE_TIMEOUT_MS;
  let last: ListedVideo | undefined;
  while (Date.now() < deadline) {
    const videos = JSON.parse(await server.runCli(['video', 'list', '--json'])) as ListedVideo[];
    last = videos.find((video) => video.title === title);
    if (last?.hls === 'ready') return;
    if (last?.hls === 'failed') throw new Error(`transcoding "${title}" failed:\n${server.output.stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`"${title}" had no HLS renditions within ${TRANSCODE_TIMEOUT_MS} ms; last state ${JSON.stringify(last)}`);
}

describe.skipIf(!runE2e)('HLS e2e', () => {
  let browser: Browser;
  let server: AppServer;
  let watchPage: WatchPage | undefined;

  beforeAll(async () => {
    browser = await launchChromium();
    server = await startAppServer({ MEDIA_URL_TTL_SECONDS: String(TTL_SECONDS) });
    await waitForHls(server, COLOUR_BARS);
  }, TRANSCODE_TIMEOUT_MS + 20_000);

  afterAll(async () => {
    await server?.stop();
    await browser?.close();
  });

  afterEach(async ({ task }) => {
    if (watchPage && task.result?.state === 'fail') await saveFailureArtifacts(watchPage, task.fullName);
    await watchPage?.close();
    watchPage = undefined;
  });

  it('plays through hls.js past the first grants', { timeout: 45_000 }, async () => {
    watchPage = await openWatchPage(browser);
    const { page, log } = watchPage;
    await logIn(page, server.baseUrl, server.subscriber);
    expect(await openVideo(page, COLOUR_BARS)).toBe(200);

    await play(page);
    await waitForPlaybackPast(page, PLAY_PAST_SECONDS, PLAY_TIMEOUT_MS);

    expect(await page.evaluate(() => typeof (window as { Hls?: unknown }).Hls)).toBe('function');
    expect((await readPlayer(page)).errorCode).toBeNull();
    expect(await page.$eval('#player', (element) => (element as HTMLVideoElement).currentSrc.startsWith('blob:'))).toBe(true);
    const base = server.baseUrl.replace(/[.]/g, '\\.');
    expect(log).toContainEqual(expect.stringMatching(new RegExp(`^200 GET ${base}/api/videos/[^/]+/hls/master\\.m3u8\\?…$`)));
    expect(log).toContainEqual(expect.stringMatching(new RegExp(`^200 GET ${base}/api/videos/[^/]+/hls/\\d+p/index\\.m3u8\\?…$`)));
    expect(log).toContainEqual(expect.stringMatching(new RegExp(`^200 GET ${base}/media/[^/]+/hls/\\d+p/segment_\\d{3}\\.ts\\?…$`)));
    // Nothing played from the MP4.
    expect(log.filter((line) => new RegExp(`GET ${base}/media/[^/]+\\?`).test(line))).toEqual([]);

    const options = await page.$$eval('#player-quality option', (elements) => elements.map((option) => option.textContent));
    expect(options).toEqual(['Auto', '240p', '360p']);
    expect(await page.locator('#player-quality').isVisible()).toBe(true);
  });
});
