import type { Browser, BrowserContext, Page } from 'playwright-core';

import type { Account } from '../helpers/app-server.js';

const NAVIGATION_TIMEOUT_MS = 10_000;
const GRANT_PATH = /^\/api\/videos\/[^/]+\/playback$/;

export interface PlayerState {
  currentTime: number;
  paused: boolean;
  /** MediaError.code, or null while the element has no error. */
  errorCode: number | null;
  /** HTMLMediaElement.networkState: 0 (NETWORK_EMPTY) once the player has dropped its source. */
  networkState: number;
}

/** One browser context and page, with the console and network lines a failing test keeps. */
export interface WatchPage {
  context: BrowserContext;
  page: Page;
  /** Console messages, page errors and requests in order, with query strings removed. */
  log: string[];
  /** Expiry times (ms since the epoch) of the grants the page received, in order. */
  grantExpiries: number[];
  close(): Promise<void>;
}

export async function openWatchPage(browser: Browser): Promise<WatchPage> {
  const context = await browser.newContext();
  context.setDefaultTimeout(NAVIGATION_TIMEOUT_MS);
  const page = await context.newPage();
  const watchPage: WatchPage = { context, page, log: [], grantExpiries: [], close: () => context.close() };

  page.on('console', (message) => watchPage.log.push(`console.${message.type()}: ${withoutQueries(message.text())}`));
  page.on('pageerror', (error) => watchPage.log.push(`pageerror: ${withoutQueries(error.message)}`));
  page.on('requestfailed', (request) => {
    watchPage.log.push(`request failed: ${request.method()} ${withoutQueries(request.url())} ${request.failure()?.errorText ?? ''}`);
  });
  page.on('response', (response) => {
    watchPage.log.push(`${response.status()} ${response.request().method()} ${withoutQueries(response.url())}`);
    if (GRANT_PATH.test(new URL(response.url()).pathname) && response.ok()) {
      void response.json().then(
        (grant: { expiresAt: string }) => watchPage.grantExpiries.push(Date.parse(grant.expiresAt)),
        () => watchPage.log.push('grant response was not JSON'),
      );
    }
  });
  return watchPage;
}

/** Grant URLs carry signatures and presigned queries, which must not land in logs or test artifacts. */
export function withoutQueries(text: string): string {
  return text.replace(/(https?:\/\/[^\s?"']+|\/media\/[^\s?"']+)\?[^\s"')]*/g, '$1?…');
}

/** Matches a log line of a successful media response (200 or 206) from a URL that starts with `urlPrefix`. */
export function mediaResponseLine(urlPrefix: string): RegExp {
  return new RegExp(`^20[06] GET ${urlPrefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`);
}

export function countGrantRequests(watchPage: WatchPage): number {
  return watchPage.log.filter((line) => /^\d+ GET \S+\/api\/videos\/[^/]+\/playback$/.test(line)).length;
}

export async function logIn(page: Page, baseUrl: string, account: Account): Promise<void> {
  await page.goto(`${baseUrl}/login`);
  await page.getByLabel('Email').fill(account.email);
  await page.getByLabel('Password').fill(account.password);
  await Promise.all([page.waitForURL(`${baseUrl}/`), page.getByRole('button', { name: 'Log in' }).click()]);
}

/** Clicks a catalogue tile and returns the HTTP status of the watch page it leads to. */
export async function openVideo(page: Page, title: string): Promise<number> {
  const [response] = await Promise.all([
    page.waitForResponse((candidate) => /\/videos\/[^/]+$/.test(new URL(candidate.url()).pathname)),
    page.getByRole('link', { name: title }).click(),
  ]);
  await page.waitForLoadState('domcontentloaded');
  return response.status();
}

export function readPlayer(page: Page): Promise<PlayerState> {
  return page.$eval('#player', (element) => {
    const video = element as HTMLVideoElement;
    return {
      currentTime: video.currentTime,
      paused: video.paused,
      errorCode: video.error ? video.error.code : null,
      networkState: video.networkState,
    };
  });
}

export async function play(page: Page): Promise<void> {
  await page.$eval('#player', (element) => (element as HTMLVideoElement).play().catch(() => undefined));
}

export async function pause(page: Page): Promise<void> {
  await page.$eval('#player', (element) => (element as HTMLVideoElement).pause());
}

export async function seek(page: Page, seconds: number): Promise<void> {
  await page.$eval('#player', (element, to) => ((element as HTMLVideoElement).currentTime = to), seconds);
}

/** Waits until the player is playing past `seconds`. On a timeout the error shows the player's state. */
export async function waitForPlaybackPast(page: Page, seconds: number, timeoutMs: number): Promise<void> {
  try {
    await page.waitForFunction(
      (beyond) => {
        const video = document.getElementById('player') as HTMLVideoElement | null;
        return video !== null && !video.paused && video.currentTime > beyond;
      },
      seconds,
      { timeout: timeoutMs, polling: 100 },
    );
  } catch (err) {
    const state = await readPlayer(page).catch(() => null);
    throw new Error(`the player did not play past ${seconds} s within ${timeoutMs} ms; player state: ${JSON.stringify(state)}`, { cause: err });
  }
}

/** Waits until the newest grant has expired, with a margin for clock rounding on either side. */
export async function waitForGrantExpiry(page: Page, watchPage: WatchPage, maxWaitMs: number): Promise<void> {
  const expiresAt = watchPage.grantExpiries.at(-1);
  if (expiresAt === undefined) throw new Error('the page has received no grant yet');

  const waitMs = expiresAt + 1000 - Date.now();
  if (waitMs > maxWaitMs) throw new Error(`the grant expires in ${waitMs} ms, later than the ${maxWaitMs} ms this test allows`);
  if (waitMs > 0) await page.waitForTimeout(waitMs);
}

/**
 * Caps how many seconds hls.js buffers ahead on this page by changing Hls.DefaultConfig as the hls.js script
 * defines window.Hls, so the player's code stays as in production. hls.js 1.7 raises maxBufferLength to
 * 8 * maxBufferSize / bitrate, up to maxMaxBufferLength (600 s), so it fetches a low-bitrate test video whole.
 * Call before the watch page loads.
 */
export async function limitHlsBufferAhead(page: Page, seconds: number): Promise<void> {
  await page.addInitScript((maxSeconds) => {
    let hlsClass: { DefaultConfig: object } | undefined;
    Object.defineProperty(window, 'Hls', {
      configurable: true,
      get: () => hlsClass,
      set: (value: { DefaultConfig: object }) => {
        value.DefaultConfig = { ...value.DefaultConfig, maxBufferLength: maxSeconds, maxMaxBufferLength: maxSeconds };
        hlsClass = value;
      },
    });
  }, seconds);
}
