import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { startAppServer, type AppServer } from '../helpers/app-server.js';
import { CHROMIUM_MISSING_MESSAGE, chromiumAvailable, launchChromium } from './chromium.js';
import { saveFailureArtifacts } from './failure-artifacts.js';
import {
  limitHlsBufferAhead,
  logIn,
  openVideo,
  openWatchPage,
  play,
  readPlayer,
  waitForPlaybackPast,
  type WatchPage,
} from './watch-page.js';

/*
 * HLS in headless Debian Chromium against `node dist/server.js`: the server's own worker transcodes the
 * demo videos with ffmpeg, then the watch page plays the renditions through hls.js. Grants last 5 s, but
 * hls.js fetches the whole 20 s demo video within them. The second test plays a 60 s video generated here
 * with hls.js buffering only 10 s ahead, so segment requests keep meeting expired grants.
 */

const runE2e = chromiumAvailable();
if (!runE2e) console.warn(CHROMIUM_MISSING_MESSAGE);

const TTL_SECONDS = 5;
const COLOUR_BARS = 'Colour bars and a 440 Hz tone';
const TRANSCODE_TIMEOUT_MS = 40_000;
const PLAY_PAST_SECONDS = 10.5;
const PLAY_TIMEOUT_MS = 20_000;

const TEST_PATTERN = 'Test pattern, 60 s';
const TEST_PATTERN_SECONDS = 60;
const FFMPEG_TIMEOUT_MS = 30_000;
// With 10 s buffered ahead, about every 6 s of playback needs a segment from a newer grant. So 35 s of
// playback takes about five refreshes, more than the player's limit of 3 errors within 30 s.
const BUFFER_AHEAD_SECONDS = 10;
const PLAY_PAST_REFRESH_SECONDS = 35;
const PLAY_PAST_REFRESH_TIMEOUT_MS = 60_000;
const REFRESH_TEST_TIMEOUT_MS = FFMPEG_TIMEOUT_MS + TRANSCODE_TIMEOUT_MS + PLAY_PAST_REFRESH_TIMEOUT_MS + 20_000;

const execFileAsync = promisify(execFile);

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

/** Encodes a low-bitrate 320x180 H.264/AAC test pattern with a 440 Hz tone as DIR/test-pattern.mp4. */
async function generateTestPattern(dir: string, seconds: number): Promise<string> {
  const file = path.join(dir, 'test-pattern.mp4');
  await execFileAsync(
    'ffmpeg',
    [
      '-hide_banner', '-nostdin', '-y',
      '-f', 'lavfi', '-i', `testsrc2=size=320x180:rate=25:duration=${seconds}`,
      '-f', 'lavfi', '-i', `sine=frequency=440:duration=${seconds}`,
      '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-b:v', '200k',
      '-c:a', 'aac', '-b:a', '64k', '-movflags', '+faststart',
      file,
    ],
    { timeout: FFMPEG_TIMEOUT_MS },
  );
  return file;
}

/** Generates the test pattern in a temporary folder and adds it to the catalogue, which queues its HLS job. */
async function addTestPattern(server: AppServer): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgate-hls-e2e-'));
  try {
    const file = await generateTestPattern(dir, TEST_PATTERN_SECONDS);
    await server.runCli(['video', 'add', file, '--title', TEST_PATTERN]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
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

  it('refreshes expired segment grants', { timeout: REFRESH_TEST_TIMEOUT_MS }, async () => {
    await addTestPattern(server);
    await waitForHls(server, TEST_PATTERN);

    watchPage = await openWatchPage(browser);
    const { page, log } = watchPage;
    await limitHlsBufferAhead(page, BUFFER_AHEAD_SECONDS);
    await logIn(page, server.baseUrl, server.subscriber);
    expect(await openVideo(page, TEST_PATTERN)).toBe(200);

    await play(page);
    await waitForPlaybackPast(page, PLAY_PAST_REFRESH_SECONDS, PLAY_PAST_REFRESH_TIMEOUT_MS);

    const base = server.baseUrl.replace(/[.]/g, '\\.');
    const grant = new RegExp(`^200 GET ${base}/api/videos/[^/]+/playback$`);
    const expiredSegment = new RegExp(`^403 GET ${base}/media/[^/]+/hls/\\d+p/segment_\\d{3}\\.ts\\?…$`);
    const segment = new RegExp(`^200 GET ${base}/media/[^/]+/hls/\\d+p/segment_\\d{3}\\.ts\\?…$`);

    const firstExpired = log.findIndex((line) => expiredSegment.test(line));
    expect(firstExpired).toBeGreaterThan(-1);
    expect(log.slice(0, firstExpired).filter((line) => grant.test(line))).toHaveLength(1);
    const afterExpired = log.slice(firstExpired + 1);
    const nextGrant = afterExpired.findIndex((line) => grant.test(line));
    expect(nextGrant).toBeGreaterThan(-1);
    expect(afterExpired.slice(nextGrant + 1)).toContainEqual(expect.stringMatching(segment));

    expect((await readPlayer(page)).errorCode).toBeNull();
    // The player shows a message when it gives up refreshing, and playback then stalls at the buffer's end.
    expect(await page.locator('#player-message').isHidden()).toBe(true);
    expect(await page.evaluate(() => typeof (window as { Hls?: unknown }).Hls)).toBe('function');
    expect(await page.$eval('#player', (element) => (element as HTMLVideoElement).currentSrc.startsWith('blob:'))).toBe(true);
    expect(log.filter((line) => new RegExp(`GET ${base}/media/[^/]+\\?`).test(line))).toEqual([]);
  });
});
