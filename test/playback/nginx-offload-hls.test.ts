import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import type { S3Storage } from '../../src/storage/s3-storage.js';
import type { Video } from '../../src/videos/video-repository.js';
import { NGINX_MISSING_MESSAGE, nginxAvailable, type NginxServer } from '../helpers/nginx-server.js';
import { loginCookie } from '../helpers/http-login.js';
import { startOffloadStack, type OffloadStack } from '../helpers/offload-stack.js';
import { addDemoVideo, addUser, PASSWORD, type TestApp } from '../helpers/test-app.js';
import { playlistUris, transcodeNow } from '../transcode/transcode-helpers.js';

/*
 * HLS with MEDIA_OFFLOAD=nginx: the app serves the rewritten playlists, and nginx fetches every segment from
 * s3rver after the app has checked it. The demo video is transcoded once with the real ffmpeg.
 */

const runNginx = nginxAvailable();
if (!runNginx) console.warn(NGINX_MISSING_MESSAGE);

let stack: OffloadStack;
let testApp: TestApp;
let nginx: NginxServer;
let video: Video;
let cookie: string;

describe.skipIf(!runNginx)('HLS segments through nginx offload', () => {
  beforeAll(async () => {
    stack = await startOffloadStack();
    ({ testApp, nginx } = stack);
    await addUser(testApp, 'sub@example.com', { subscription: { active: true } });
    video = await transcodeNow(testApp.context, await addDemoVideo(testApp));

    cookie = await loginCookie(nginx.baseUrl, 'sub@example.com', PASSWORD);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('segment through nginx matches the app stream', async () => {
    const grant = (await (await fetch(`${nginx.baseUrl}/api/videos/${video.id}/playback`, { headers: { cookie } })).json()) as { hls: { url: string } };
    const master = await (await fetch(`${nginx.baseUrl}${grant.hls.url}`, { headers: { cookie } })).text();
    const variant = await (await fetch(`${nginx.baseUrl}${playlistUris(master)[0]}`, { headers: { cookie } })).text();
    const segmentUrl = playlistUris(variant)[0]!;
    const read = vi.spyOn(testApp.context.storage as S3Storage, 'read');

    try {
      const throughNginx = await fetch(`${nginx.baseUrl}${segmentUrl}`, { headers: { cookie } });
      const segment = Buffer.from(await throughNginx.arrayBuffer());

      expect(throughNginx.status).toBe(200);
      expect(throughNginx.headers.get('content-type')).toBe('video/mp2t');
      expect(segment.length).toBeGreaterThan(0);
      expect(read).not.toHaveBeenCalled();

      // Straight to the app, without nginx's request header, the app streams the same segment itself.
      const fromApp = await fetch(`${stack.appBaseUrl}${segmentUrl}`, { headers: { cookie } });
      expect(Buffer.compare(Buffer.from(await fromApp.arrayBuffer()), segment)).toBe(0);
      expect(read).toHaveBeenCalledTimes(1);
    } finally {
      read.mockRestore();
    }
  });

  it('refuses a segment without the session', async () => {
    const grant = (await (await fetch(`${nginx.baseUrl}/api/videos/${video.id}/playback`, { headers: { cookie } })).json()) as { hls: { url: string } };
    const master = await (await fetch(`${nginx.baseUrl}${grant.hls.url}`, { headers: { cookie } })).text();
    const variant = await (await fetch(`${nginx.baseUrl}${playlistUris(master)[0]}`, { headers: { cookie } })).text();

    const response = await fetch(`${nginx.baseUrl}${playlistUris(variant)[0]}`);

    expect(response.status).toBe(401);
  });
});
