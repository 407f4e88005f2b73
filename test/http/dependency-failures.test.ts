import fs from 'node:fs';
import path from 'node:path';

import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';

import { addDemoVideo, addUser, createTestApp, loginAgent, type TestApp } from '../helpers/test-app.js';

/* The database or the storage failing: a clear page or JSON error, a log line, no crash, no internal text. */

let testApp: TestApp | undefined;

afterEach(async () => {
  await testApp?.close().catch(() => undefined);
  testApp = undefined;
});

describe('storage down', () => {
  it('healthz answers 503 naming the storage', async () => {
    testApp = await createTestApp();
    fs.rmSync(path.join(testApp.dataDir, 'media'), { recursive: true, force: true });
    fs.writeFileSync(path.join(testApp.dataDir, 'media'), 'a file where the media folder should be');

    const response = await request(testApp.app).get('/healthz').expect(503);

    expect(response.body).toEqual({ status: 'unavailable', reason: 'storage not answering' });
  });

  it('missing media file is a 404 with no file-system text', async () => {
    testApp = await createTestApp();
    const video = await addDemoVideo(testApp);
    await addUser(testApp, 'sub@example.com', { subscription: { active: true } });
    const agent = await loginAgent(testApp.app, 'sub@example.com');
    const grant = await agent.get(`/api/videos/${video.id}/playback`).expect(200);
    fs.rmSync(path.join(testApp.dataDir, 'media', video.storageKey));

    const response = await agent.get(grant.body.url).expect(404);

    expect(response.body.error.message).toBe('This video file is missing from storage.');
    expect(JSON.stringify(response.body)).not.toContain(testApp.dataDir);
  });

  it('unreachable S3 endpoint is a 503 for proxied media', async () => {
    // Port 9 on loopback (discard) has no listener here, so every S3 call fails with ECONNREFUSED.
    testApp = await createTestApp({
      STORAGE: 's3', S3_BUCKET: 'nowhere', S3_REGION: 'us-east-1', S3_ENDPOINT: 'http://127.0.0.1:9', S3_FORCE_PATH_STYLE: 'true', MEDIA_DELIVERY: 'proxy',
    });
    process.env.AWS_ACCESS_KEY_ID ??= 'S3RVER';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'S3RVER';
    const video = await testApp.context.db
      .insertInto('videos')
      .values({ id: 'AAAAAAAAAAAAAAAA', title: 'Gone', description: '', storage_key: 'videos/gone.mp4', content_type: 'video/mp4', size_bytes: 10, duration_seconds: null, poster_key: null, published: 1, created_at: new Date().toISOString(), updated_at: new Date().toISOString() })
      .execute();
    expect(video).toBeDefined();
    await addUser(testApp, 'sub@example.com', { subscription: { active: true } });
    const agent = await loginAgent(testApp.app, 'sub@example.com');
    const grant = await agent.get('/api/videos/AAAAAAAAAAAAAAAA/playback').expect(200);

    const response = await agent.get(grant.body.url).set('Range', 'bytes=0-1').expect(503);

    expect(response.body.error).toEqual({ code: 'SERVICE_UNAVAILABLE', message: 'A service this site depends on is not answering. Try again in a minute.' });
    await request(testApp.app).get('/healthz').expect(503);
  });
});

describe('database down', () => {
  it('pages answer 503 with a clear message', async () => {
    testApp = await createTestApp();
    await addUser(testApp, 'sub@example.com', { subscription: { active: true } });
    const agent = await loginAgent(testApp.app, 'sub@example.com');
    await testApp.context.db.destroy();

    const page = await agent.get('/').expect(503);
    const health = await request(testApp.app).get('/healthz').expect(503);

    expect(page.text).toContain('The database is not answering right now. Try again in a minute.');
    expect(page.text).not.toMatch(/sqlite|kysely|destroyed/i);
    expect(health.body).toEqual({ status: 'unavailable', reason: 'database not answering' });
  });
});
