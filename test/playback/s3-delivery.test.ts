import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { insertVideo } from '../../src/videos/video-repository.js';
import { DEMO_VIDEO, addUser, createTestApp, loginAgent, type TestApp } from '../helpers/test-app.js';
import { addVideoFromFile } from '../../src/videos/add-video.js';
import { startS3Server, type S3TestServer, s3AppEnv } from '../helpers/s3-server.js';

/*
 * The app in S3 redirect delivery against s3rver on loopback. s3rver enforces the expiry of presigned URLs
 * but does not verify signatures, so these tests prove the URL's scope and lifetime, not its signature.
 */

const TTL_SECONDS = 5;
const demoBytes = fs.readFileSync(DEMO_VIDEO);

let s3: S3TestServer;
let testApp: TestApp;
let agent: Awaited<ReturnType<typeof loginAgent>>;

beforeAll(async () => {
  s3 = await startS3Server();
  testApp = await createTestApp({
    ...s3AppEnv(s3),
    S3_PREFIX: 'media library',
    MEDIA_URL_TTL_SECONDS: String(TTL_SECONDS),
  });
  await addUser(testApp, 'sub@example.com', { subscription: { active: true } });
  agent = await loginAgent(testApp.app, 'sub@example.com');
});

afterAll(async () => {
  await testApp.close();
  await s3.stop();
});

async function grantFor(videoId: string): Promise<{ url: string; expiresAt: string; type: string }> {
  const response = await agent.get(`/api/videos/${videoId}/playback`).expect(200);
  expect(response.headers['cache-control']).toBe('no-store');
  return response.body;
}

async function copyDemoAs(fileName: string): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgate-names-'));
  const target = path.join(dir, fileName);
  fs.copyFileSync(DEMO_VIDEO, target);
  return target;
}

describe('S3 redirect delivery', () => {
  it('grant is a presigned URL for the object', async () => {
    const video = await addVideoFromFile({ db: testApp.context.db, storage: testApp.context.storage }, { filePath: DEMO_VIDEO, title: 'Bars' });

    const grant = await grantFor(video.id);

    const url = new URL(grant.url);
    expect(url.origin).toBe(s3.endpoint);
    expect(decodeURIComponent(url.pathname)).toBe(`/${s3.bucket}/media library/${video.storageKey}`);
    expect(url.searchParams.get('X-Amz-Expires')).toBe(String(TTL_SECONDS));
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('host');
    expect(grant.type).toBe('video/mp4');
  });

  it('granted URL serves the requested bytes', async () => {
    const video = await addVideoFromFile({ db: testApp.context.db, storage: testApp.context.storage }, { filePath: DEMO_VIDEO, title: 'Bars' });
    const grant = await grantFor(video.id);

    const response = await fetch(grant.url, { headers: { Range: 'bytes=100-199' } });

    expect(response.status).toBe(206);
    expect(response.headers.get('content-range')).toBe(`bytes 100-199/${demoBytes.length}`);
    expect(Buffer.from(await response.arrayBuffer())).toEqual(demoBytes.subarray(100, 200));
  });

  it('object stored as octet-stream is served as video', async () => {
    const key = 'videos/untyped/clip.bin';
    await testApp.context.storage.write(key, Readable.from(demoBytes), { contentType: 'application/octet-stream' });
    const video = await insertVideo(testApp.context.db, {
      title: 'Untyped', description: '', storageKey: key, contentType: 'video/mp4', sizeBytes: demoBytes.length, durationSeconds: null, posterKey: null,
    });
    const grant = await grantFor(video.id);

    const response = await fetch(grant.url, { headers: { Range: 'bytes=0-1' } });

    expect(response.status).toBe(206);
    expect(response.headers.get('content-type')).toBe('video/mp4');
  });

  it.each(['My film + extras.mp4', 'été 日本 100%.mp4', 'a#b?c=d&e.mp4', "quote's [1].mp4"])('key with reserved characters: %s', async (name) => {
    const video = await addVideoFromFile({ db: testApp.context.db, storage: testApp.context.storage }, { filePath: await copyDemoAs(name), title: name });
    expect(video.storageKey.endsWith(name)).toBe(true);

    const grant = await grantFor(video.id);
    const response = await fetch(grant.url, { headers: { Range: 'bytes=0-7' } });

    expect(response.status).toBe(206);
    expect(Buffer.from(await response.arrayBuffer())).toEqual(demoBytes.subarray(0, 8));
  });

  it('granted URL is refused after its TTL', async () => {
    const video = await addVideoFromFile({ db: testApp.context.db, storage: testApp.context.storage }, { filePath: DEMO_VIDEO, title: 'Bars' });
    const grant = await grantFor(video.id);
    expect((await fetch(grant.url, { headers: { Range: 'bytes=0-1' } })).status).toBe(206);

    await new Promise((resolve) => setTimeout(resolve, (TTL_SECONDS + 1.5) * 1000));

    const late = await fetch(grant.url, { headers: { Range: 'bytes=0-1' } });
    expect(late.status).toBe(403);
    expect(await late.text()).not.toContain('ftyp');
  }, 15_000);

  it('CSP names the storage origin', async () => {
    const response = await agent.get('/').expect(200);

    const csp = String(response.headers['content-security-policy']);
    expect(csp).toContain(`media-src 'self' ${s3.endpoint}`);
    expect(csp).toContain(`connect-src 'self' ${s3.endpoint}`);
  });

  it('healthz checks the bucket', async () => {
    await agent.get('/healthz').expect(200, { status: 'ok' });
  });
});
