import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';

import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { OFFLOAD_LOCATION } from '../../src/playback/storage-offload.js';
import { S3Storage } from '../../src/storage/s3-storage.js';
import { setSubscription } from '../../src/subscriptions/subscription-repository.js';
import { insertVideo, type Video } from '../../src/videos/video-repository.js';
import { NGINX_MISSING_MESSAGE, nginxAvailable, TEST_OFFLOAD_SECRET, type NginxServer } from '../helpers/nginx-server.js';
import { loginCookie } from '../helpers/http-login.js';
import { startOffloadStack, type OffloadStack } from '../helpers/offload-stack.js';
import type { S3TestServer } from '../helpers/s3-server.js';
import { addUser, PASSWORD, type TestApp } from '../helpers/test-app.js';

/*
 * MEDIA_OFFLOAD=nginx with a real nginx, configured with the location from docs/deploy.md, in front of the app
 * and s3rver on loopback. The app checks every request; nginx fetches the bytes from s3rver with the headers
 * the app signed. s3rver checks neither SigV4 header signatures nor presigned ones, so these tests show the
 * request nginx sends and what reaches the client, not that S3 would accept the signature: that signature
 * is the SDK's own SignatureV4 over the client's credentials.
 */

const runNginx = nginxAvailable();
if (!runNginx) console.warn(NGINX_MISSING_MESSAGE);

const SIZE = 256 * 1024;
const bytes = randomBytes(SIZE);

let stack: OffloadStack;
let s3: S3TestServer;
let testApp: TestApp;
let nginx: NginxServer;
let storage: S3Storage;
let video: Video;
let subscriberId: string;
let cookie: string;

describe.skipIf(!runNginx)('nginx offload of proxied media', () => {
  beforeAll(async () => {
    stack = await startOffloadStack({ S3_PREFIX: 'library' });
    ({ s3, testApp, nginx } = stack);
    storage = testApp.context.storage as S3Storage;
    const key = 'videos/offload/My film + extras.mp4';
    await storage.write(key, Readable.from([bytes]), { contentType: 'application/octet-stream' });
    video = await insertVideo(testApp.context.db, {
      title: 'Offloaded', description: '', storageKey: key, contentType: 'video/mp4', sizeBytes: SIZE, durationSeconds: null, posterKey: null,
    });
    subscriberId = (await addUser(testApp, 'sub@example.com', { subscription: { active: true } })).id;
    cookie = await loginCookie(nginx.baseUrl, 'sub@example.com', PASSWORD);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('full GET streams the object through nginx, not the app', async () => {
    const read = vi.spyOn(storage, 'read');
    try {
      const response = await fetchMedia();

      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('video/mp4');
      expect(response.headers.get('content-length')).toBe(String(SIZE));
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(Buffer.compare(Buffer.from(await response.arrayBuffer()), bytes)).toBe(0);
      expect(read).not.toHaveBeenCalled();
    } finally {
      read.mockRestore();
    }
  });

  it.each([
    ['bytes=100-199', 100, 199],
    ['bytes=-10', SIZE - 10, SIZE - 1],
    ['bytes=262000-', 262000, SIZE - 1],
  ])('Range %s is 206 with those bytes', async (range, start, end) => {
    const response = await fetchMedia({ range });

    expect(response.status).toBe(206);
    expect(response.headers.get('content-range')).toBe(`bytes ${start}-${end}/${SIZE}`);
    expect(Buffer.compare(Buffer.from(await response.arrayBuffer()), bytes.subarray(start, end + 1))).toBe(0);
  });

  it('If-Range that no longer matches gets the whole object', async () => {
    const response = await fetchMedia({ range: 'bytes=0-9', 'if-range': '"0123456789abcdef0123456789abcdef"' });

    expect(response.status).toBe(200);
    expect((await response.arrayBuffer()).byteLength).toBe(SIZE);
  });

  it('unsatisfiable Range is 416 from the app', async () => {
    const response = await fetchMedia({ range: `bytes=${SIZE}-` });

    expect(response.status).toBe(416);
    expect(response.headers.get('content-range')).toBe(`bytes */${SIZE}`);
  });

  it('response carries no signing header or S3 header', async () => {
    const response = await fetchMedia({ range: 'bytes=0-0' });
    await response.arrayBuffer();
    const names: string[] = [];
    response.headers.forEach((_value, name) => names.push(name));

    expect(names.filter((name) => name.startsWith('x-reelgate') || name.startsWith('x-amz') || name === 'authorization')).toEqual([]);
    expect(names).not.toContain('x-accel-redirect');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('cross-origin-resource-policy')).toBe('same-origin');
  });

  it('copied URL without the session is 401 and no bytes', async () => {
    const response = await fetch(`${nginx.baseUrl}${await grantUrl()}`, { headers: { range: 'bytes=0-9' } });

    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  });

  it('revoked subscription stops the next Range request', async () => {
    const url = await grantUrl();
    await setSubscription(testApp.context.db, { userId: subscriberId, active: false, endsAt: null });
    try {
      const response = await fetch(`${nginx.baseUrl}${url}`, { headers: { cookie, range: 'bytes=0-9' } });

      expect(response.status).toBe(403);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('SUBSCRIPTION_INACTIVE');
    } finally {
      await setSubscription(testApp.context.db, { userId: subscriberId, active: true, endsAt: null });
    }
  });

  it('S3 error reaches the client as a plain 503', async () => {
    const missing = await insertVideo(testApp.context.db, {
      title: 'Gone', description: '', storageKey: 'videos/offload/gone.mp4', contentType: 'video/mp4', sizeBytes: SIZE, durationSeconds: null, posterKey: null,
    });
    // The app's own existence check passes, so the request reaches S3, which returns 404 with an XML body.
    const stat = vi.spyOn(storage, 'stat').mockResolvedValue({ size: SIZE, contentType: 'video/mp4', etag: '"abc"', lastModified: new Date() });
    try {
      const grant = await fetch(`${nginx.baseUrl}/api/videos/${missing.id}/playback`, { headers: { cookie } });
      const response = await fetch(`${nginx.baseUrl}${((await grant.json()) as { url: string }).url}`, { headers: { cookie } });
      const body = await response.text();

      expect(response.status).toBe(503);
      expect(response.headers.get('content-type')).toBe('application/json');
      expect(JSON.parse(body)).toEqual({ error: { code: 'SERVICE_UNAVAILABLE', message: expect.stringContaining('storage') } });
      expect(body).not.toContain(s3.bucket);
    } finally {
      stat.mockRestore();
    }
  });

  it('internal location is refused from outside', async () => {
    const response = await fetch(`${nginx.baseUrl}${OFFLOAD_LOCATION}`, { headers: { cookie } });

    // nginx returns 404 for an internal location, and the location's error_page turns that into its 503.
    expect(response.status).toBe(503);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('SERVICE_UNAVAILABLE');
  });

  it('error log holds no credential', async () => {
    const log = nginx.errorLog();

    expect(log).not.toContain('Signature');
    expect(log).not.toContain('Credential');
    expect(log).not.toContain('S3RVER');
  });

  it('app sends nginx a signed S3 request', async () => {
    const response = await request(testApp.app)
      .get(await grantUrl())
      .set('Cookie', cookie)
      .set('X-Reelgate-Offload', TEST_OFFLOAD_SECRET)
      .set('Range', 'bytes=5-9')
      .expect(200);
    const url = new URL(response.headers['x-reelgate-url']!);

    expect(response.headers['x-accel-redirect']).toBe(OFFLOAD_LOCATION);
    expect(`${url.origin}/`).toBe(`${new URL(s3.endpoint).origin}/`);
    expect(url.pathname).toBe(`/${s3.bucket}/library/videos/offload/My%20film%20%2B%20extras.mp4`);
    expect(url.searchParams.get('response-content-type')).toBe('video/mp4');
    expect([...url.searchParams.keys()].filter((name) => name.startsWith('X-Amz-'))).toEqual([]);
    expect(response.headers['x-reelgate-authorization']).toMatch(
      /^AWS4-HMAC-SHA256 Credential=S3RVER\/\d{8}\/us-east-1\/s3\/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=[0-9a-f]{64}$/,
    );
    expect(response.headers['x-reelgate-x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
    expect(response.headers['x-reelgate-x-amz-content-sha256']).toBe('UNSIGNED-PAYLOAD');
    expect(response.headers['x-reelgate-range']).toBe('bytes=5-9');
  });

  it.each([
    ['without the nginx request header', undefined],
    ['with a wrong secret', 'nginx'],
    ['with the secret plus one character', `${TEST_OFFLOAD_SECRET}x`],
  ])('app streams by itself %s', async (_name, headerValue) => {
    const call = request(testApp.app).get(await grantUrl()).set('Cookie', cookie).set('Range', 'bytes=0-9');
    if (headerValue !== undefined) call.set('X-Reelgate-Offload', headerValue);
    const response = await call.buffer(true).expect(206);

    expect(response.headers['x-accel-redirect']).toBeUndefined();
    expect(Object.keys(response.headers).filter((name) => name.startsWith('x-reelgate'))).toEqual([]);
    expect(Buffer.compare(response.body as Buffer, bytes.subarray(0, 10))).toBe(0);
  });
});

async function grantUrl(): Promise<string> {
  const response = await fetch(`${nginx.baseUrl}/api/videos/${video.id}/playback`, { headers: { cookie } });
  expect(response.status).toBe(200);
  return ((await response.json()) as { url: string }).url;
}

async function fetchMedia(headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${nginx.baseUrl}${await grantUrl()}`, { headers: { cookie, ...headers } });
}
