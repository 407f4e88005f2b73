import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { Video } from '../../src/videos/video-repository.js';
import { startS3Server, type S3TestServer, s3AppEnv } from '../helpers/s3-server.js';
import { addDemoVideo, addUser, createTestApp, loginAgent, type TestApp } from '../helpers/test-app.js';
import { playlistUris, transcodeNow } from '../transcode/transcode-helpers.js';

/*
 * HLS in S3 redirect delivery against s3rver on loopback: playlists come from the app, rewritten, and every
 * segment URI in them is a presigned GetObject URL with the grant's TTL. s3rver enforces the expiry of
 * presigned URLs but does not verify their signatures, so these tests prove scope and lifetime only.
 */

const TTL_SECONDS = 5;

let s3: S3TestServer;
let testApp: TestApp;
let video: Video;
let agent: Awaited<ReturnType<typeof loginAgent>>;

beforeAll(async () => {
  s3 = await startS3Server();
  testApp = await createTestApp({
    ...s3AppEnv(s3),
    S3_PREFIX: 'library',
    MEDIA_URL_TTL_SECONDS: String(TTL_SECONDS),
  });
  await addUser(testApp, 'sub@example.com', { subscription: { active: true } });
  video = await transcodeNow(testApp.context, await addDemoVideo(testApp));
  agent = await loginAgent(testApp.app, 'sub@example.com');
});

afterAll(async () => {
  await testApp.close();
  await s3.stop();
});

async function servedPlaylists(): Promise<string[]> {
  const grant = await agent.get(`/api/videos/${video.id}/playback`).expect(200);
  const master = await agent.get(grant.body.hls.url).expect(200);
  const variants = await Promise.all(playlistUris(master.text).map(async (uri) => (await agent.get(uri).expect(200)).text));
  return [master.text, ...variants];
}

describe('HLS in S3 redirect delivery', () => {
  it('presigns every segment for the grant TTL', async () => {
    const [master, ...variants] = await servedPlaylists();

    expect(playlistUris(master!).map((uri) => uri.split('?')[0])).toEqual([`/api/videos/${video.id}/hls/240p/index.m3u8`, `/api/videos/${video.id}/hls/360p/index.m3u8`]);
    const segments = variants.flatMap(playlistUris);
    expect(segments).toHaveLength(10);
    for (const uri of segments) {
      const url = new URL(uri);
      expect(url.origin).toBe(s3.endpoint);
      expect(decodeURIComponent(url.pathname)).toMatch(new RegExp(`^/${s3.bucket}/library/hls/${video.id}/(240p|360p)/segment_00[0-4]\\.ts$`));
      expect(url.searchParams.get('X-Amz-Expires')).toBe(String(TTL_SECONDS));
      expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
      expect(url.searchParams.get('response-content-type')).toBe('video/mp2t');
    }
  });

  it('serves segments until the TTL ends', async () => {
    const [, variant] = await servedPlaylists();
    const segment = playlistUris(variant!)[0]!;

    const fresh = await fetch(segment);
    expect(fresh.status).toBe(200);
    expect(fresh.headers.get('content-type')).toBe('video/mp2t');
    // An MPEG-TS packet starts with the sync byte 0x47.
    expect(new Uint8Array(await fresh.arrayBuffer())[0]).toBe(0x47);

    await new Promise((resolve) => setTimeout(resolve, (TTL_SECONDS + 1.5) * 1000));

    expect((await fetch(segment)).status).toBe(403);
  }, 20_000);

  it('leaks no storage URL without a signature', async () => {
    const playlists = await servedPlaylists();

    for (const body of playlists) {
      for (const uri of playlistUris(body)) {
        if (uri.startsWith('/')) expect(uri).toMatch(/^\/api\/videos\/[^/]+\/hls\/.+\?exp=\d+&sig=[A-Za-z0-9_-]{43}$/);
        else expect(new URL(uri).searchParams.has('X-Amz-Signature')).toBe(true);
      }
      expect(body.split('\n').filter((line) => line.includes(s3.endpoint) && !line.includes('X-Amz-Signature='))).toEqual([]);
    }
  });
});
