import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { Video } from '../../src/videos/video-repository.js';
import { addDemoVideo, addUser, createTestApp, loginAgent, type TestApp } from '../helpers/test-app.js';
import { playlistUris, transcodeNow } from '../transcode/transcode-helpers.js';

/*
 * HLS on local storage (served by the app): every URI of every served playlist is a signed app URL that
 * works with the subscriber's session and nothing else. The video is transcoded once with the real ffmpeg.
 */

let testApp: TestApp;
let video: Video;
let subscriber: Awaited<ReturnType<typeof loginAgent>>;
let lapsed: Awaited<ReturnType<typeof loginAgent>>;

beforeAll(async () => {
  testApp = await createTestApp({ MEDIA_URL_TTL_SECONDS: '60' });
  await addUser(testApp, 'sub@example.com', { subscription: { active: true } });
  await addUser(testApp, 'lapsed@example.com', { subscription: { active: false } });
  video = await transcodeNow(testApp.context, await addDemoVideo(testApp));
  subscriber = await loginAgent(testApp.app, 'sub@example.com');
  lapsed = await loginAgent(testApp.app, 'lapsed@example.com');
});

afterAll(async () => {
  await testApp.close();
});

async function masterUrl(): Promise<string> {
  const grant = await subscriber.get(`/api/videos/${video.id}/playback`).expect(200);
  expect(grant.body.url).toMatch(new RegExp(`^/media/${video.id}\\?exp=\\d+&sig=`));
  return grant.body.hls.url;
}

/** Follows every URI from the master playlist down, with the subscriber's session. */
async function crawl(): Promise<{ playlists: Map<string, string>; segments: string[] }> {
  const playlists = new Map<string, string>();
  const segments: string[] = [];
  const pending = [await masterUrl()];
  while (pending.length > 0) {
    const url = pending.shift()!;
    const response = await subscriber.get(url).buffer(true).parse((res, done) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => done(null, Buffer.concat(chunks)));
    });
    expect(response.status, url).toBe(200);
    expect(response.headers['cache-control'], url).toBe('no-store');
    if (url.includes('.m3u8')) {
      expect(response.headers['content-type']).toBe('application/vnd.apple.mpegurl');
      const body = (response.body as Buffer).toString('utf8');
      playlists.set(url, body);
      pending.push(...playlistUris(body));
    } else {
      expect(response.headers['content-type']).toBe('video/mp2t');
      expect((response.body as Buffer).length).toBeGreaterThan(0);
      segments.push(url);
    }
  }
  return { playlists, segments };
}

describe('HLS playlists on local storage', () => {
  it('grants every URI in every playlist', async () => {
    const { playlists, segments } = await crawl();

    expect(playlists.size).toBe(3);
    // Two renditions of a 20 s video in 4 s segments.
    expect(segments).toHaveLength(10);
    for (const uri of [...playlists.keys(), ...segments]) {
      expect(uri).toMatch(new RegExp(`^/(api/videos|media)/${video.id}/hls/[A-Za-z0-9_./-]+\\?exp=\\d+&sig=[A-Za-z0-9_-]{43}$`));
    }
    const variants = [...playlists.keys()].filter((url) => !url.includes('/master.m3u8'));
    expect(variants.map((url) => url.split('?')[0])).toEqual([`/api/videos/${video.id}/hls/240p/index.m3u8`, `/api/videos/${video.id}/hls/360p/index.m3u8`]);
  });

  it('leaks no storage key or unsigned URI', async () => {
    const { playlists } = await crawl();

    for (const body of playlists.values()) {
      expect(body).not.toContain(`hls/${video.id}/`);
      for (const uri of playlistUris(body)) expect(uri).toMatch(/\?exp=\d+&sig=[A-Za-z0-9_-]{43}$/);
      expect(body).not.toMatch(/^segment_\d+\.ts$/m);
      expect(body).not.toMatch(/^\d+p\/index\.m3u8$/m);
    }
  });

  it('refuses every URI without the session', async () => {
    const { playlists, segments } = await crawl();

    for (const uri of [...playlists.keys(), ...segments]) {
      const response = await request(testApp.app).get(uri);
      expect(response.status, uri).toBe(401);
    }
  });

  it('refuses every URI once the grant expires', async () => {
    const { playlists, segments } = await crawl();
    const realNow = testApp.clock.now;
    testApp.clock.now = new Date(realNow.getTime() + 61_000);
    try {
      for (const uri of [...playlists.keys(), ...segments]) {
        const response = await subscriber.get(uri);
        expect(response.status, uri).toBe(403);
        expect(response.body.error.code).toBe('GRANT_EXPIRED');
      }
    } finally {
      testApp.clock.now = realNow;
    }
  });

  it('refuses a user without a subscription', async () => {
    const grant = await lapsed.get(`/api/videos/${video.id}/playback`);
    expect(grant.status).toBe(403);
    expect(grant.body.hls).toBeUndefined();

    // Even with a URL signed for this user, the playlist route checks the subscription again.
    const { playlists } = await crawl();
    const master = [...playlists.keys()][0]!;
    const response = await lapsed.get(master);
    expect(response.status).toBe(403);
  });

  it('refuses paths outside the rendition files', async () => {
    const master = new URL(await masterUrl(), 'http://localhost');
    const query = master.search;

    expect((await subscriber.get(`/api/videos/${video.id}/hls/..%2F..%2Fsecrets.m3u8${query}`)).status).toBe(404);
    expect((await subscriber.get(`/api/videos/${video.id}/hls/360p/segment_000.ts${query}`)).status).toBe(404);
    // The segment route never serves a playlist unrewritten.
    expect((await subscriber.get(`/media/${video.id}/hls/master.m3u8${query}`)).status).toBe(404);
    expect((await subscriber.get(`/media/${video.id}/hls/360p/segment_000.ts${query}`)).status).toBe(200);
  });

  it('grants no HLS before transcoding finishes', async () => {
    const plain = await addDemoVideo(testApp, 'Not transcoded');

    const grant = await subscriber.get(`/api/videos/${plain.id}/playback`).expect(200);

    expect(grant.body.hls).toBeUndefined();
    const query = new URL(grant.body.url, 'http://localhost').search;
    expect((await subscriber.get(`/api/videos/${plain.id}/hls/master.m3u8${query}`)).status).toBe(404);
  });
});
