import fs from 'node:fs';
import path from 'node:path';

import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { findVideo } from '../../src/videos/video-repository.js';
import { DEMO_POSTER, DEMO_VIDEO, addDemoVideo, addUser, createTestApp, loginAgent, type TestApp } from '../helpers/test-app.js';
import { csrfTokenOf, flashAfter, postForm } from './admin-helpers.js';

let testApp: TestApp;
let admin: ReturnType<typeof request.agent>;
let subscriber: ReturnType<typeof request.agent>;

beforeAll(async () => {
  testApp = await createTestApp();
  await addUser(testApp, 'admin@example.com', { admin: true });
  await addUser(testApp, 'sub@example.com', { subscription: { active: true } });
  admin = await loginAgent(testApp.app, 'admin@example.com');
  subscriber = await loginAgent(testApp.app, 'sub@example.com');
});

afterAll(() => testApp.close());

/** Lists every file below the media folder as a key, temp files included. */
function storedFiles(): string[] {
  const root = path.join(testApp.dataDir, 'media');
  if (!fs.existsSync(root)) return [];
  return fs
    .readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'))
    .sort();
}

async function auditActions(videoId: string): Promise<string[]> {
  const rows = await testApp.context.db.selectFrom('audit_log').select('action').where('target_id', '=', videoId).orderBy('id').execute();
  return rows.map((row) => row.action);
}

describe('GET /admin/videos', () => {
  it('lists title, size, duration and status', async () => {
    const video = await addDemoVideo(testApp, 'Listed video');

    const response = await admin.get('/admin/videos');

    expect(response.status).toBe(200);
    expect(response.text).toContain(`<a href="/admin/videos/${video.id}">Listed video</a>`);
    expect(response.text).toContain(`<td>${(fs.statSync(DEMO_VIDEO).size / 1024).toFixed(1)} KB</td>`);
    expect(response.text).toMatch(/<td>\d+:\d\d<\/td>/);
    expect(response.text).toContain('>published</span>');
  });
});

describe('POST /admin/videos/:id', () => {
  it('saves title and description', async () => {
    const video = await addDemoVideo(testApp);

    const response = await postForm(admin, `/admin/videos/${video.id}`, { title: '  New title ', description: 'Line one\r\nLine two' });

    expect(response.status).toBe(303);
    expect(response.headers.location).toBe(`/admin/videos/${video.id}`);
    const saved = await findVideo(testApp.context.db, video.id);
    expect(saved?.title).toBe('New title');
    expect(saved?.description).toBe('Line one\nLine two');
    expect(await auditActions(video.id)).toEqual(['video.update']);
  });

  it('empty title re-renders what was typed', async () => {
    const video = await addDemoVideo(testApp, 'Keep me');

    const response = await postForm(admin, `/admin/videos/${video.id}`, { title: '   ', description: 'typed text' });

    expect(response.status).toBe(422);
    expect(response.text).toContain('Enter a title.');
    expect(response.text).toContain('>typed text</textarea>');
    expect((await findVideo(testApp.context.db, video.id))?.title).toBe('Keep me');
  });
});

describe('POST /admin/videos/:id/publish', () => {
  it('unpublish hides it from subscribers', async () => {
    const video = await addDemoVideo(testApp);
    await subscriber.get(`/api/videos/${video.id}/playback`).expect(200);

    const response = await postForm(admin, `/admin/videos/${video.id}/publish`, { published: 'false' });

    expect(response.status).toBe(303);
    expect((await subscriber.get(`/api/videos/${video.id}/playback`)).status).toBe(404);
    expect(await auditActions(video.id)).toEqual(['video.publish']);
  });

  it('publish shows it again', async () => {
    const video = await addDemoVideo(testApp);
    await postForm(admin, `/admin/videos/${video.id}/publish`, { published: 'false' });

    const response = await postForm(admin, `/admin/videos/${video.id}/publish`, { published: 'true' });

    expect(response.status).toBe(303);
    expect((await subscriber.get(`/api/videos/${video.id}/playback`)).status).toBe(200);
  });
});

describe('POST /admin/videos/:id/delete', () => {
  it('removes object, poster and record', async () => {
    const video = await addDemoVideo(testApp);
    expect(storedFiles()).toContain(video.storageKey);

    const response = await postForm(admin, `/admin/videos/${video.id}/delete`);

    expect(response.status).toBe(303);
    expect(await flashAfter(admin, response.headers.location!)).toBe('Deleted “Colour bars” with its file and poster.');
    expect(await findVideo(testApp.context.db, video.id)).toBeUndefined();
    expect(storedFiles()).not.toContain(video.storageKey);
    expect(storedFiles()).not.toContain(video.posterKey);
    expect(await auditActions(video.id)).toEqual(['video.delete']);
  });
});

describe('POST /api/admin/videos/:id/poster', () => {
  it('replaces the poster', async () => {
    const video = await addDemoVideo(testApp);
    const token = await csrfTokenOf(admin);

    const response = await admin.post(`/api/admin/videos/${video.id}/poster`).set('x-csrf-token', token).attach('poster', DEMO_POSTER);

    expect(response.status).toBe(303);
    const saved = await findVideo(testApp.context.db, video.id);
    expect(saved?.posterKey).toMatch(new RegExp(`^posters/${video.id}-[A-Za-z0-9_-]{8}\\.jpg$`));
    expect(storedFiles()).toContain(saved!.posterKey);
    expect(storedFiles()).not.toContain(video.posterKey);
    const poster = await subscriber.get(`/videos/${video.id}/poster`);
    expect(poster.status).toBe(200);
    expect(poster.headers['content-type']).toBe('image/jpeg');
  });

  it('refuses a file that is not an image', async () => {
    const video = await addDemoVideo(testApp);
    const token = await csrfTokenOf(admin);

    const response = await admin
      .post(`/api/admin/videos/${video.id}/poster`)
      .set('x-csrf-token', token)
      .attach('poster', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'), { filename: 'poster.png', contentType: 'image/png' });

    expect(response.status).toBe(415);
    expect(response.body.error.message).toBe('The poster is not a JPEG, PNG or WebP image. Choose a .jpg, .png or .webp file.');
    expect((await findVideo(testApp.context.db, video.id))?.posterKey).toBe(video.posterKey);
  });

  it('refuses a poster over 5 MB', async () => {
    const video = await addDemoVideo(testApp);
    const token = await csrfTokenOf(admin);
    const big = Buffer.concat([fs.readFileSync(DEMO_POSTER), Buffer.alloc(5 * 1024 * 1024)]);

    const response = await admin
      .post(`/api/admin/videos/${video.id}/poster`)
      .set('x-csrf-token', token)
      .attach('poster', big, { filename: 'big.jpg', contentType: 'image/jpeg' });

    expect(response.status).toBe(413);
    expect(response.body.error.code).toBe('POSTER_TOO_LARGE');
  });
});

describe('POST /api/admin/uploads/stream', () => {
  it('stores and registers a real video', async () => {
    const before = storedFiles();
    const token = await csrfTokenOf(admin);

    const response = await admin
      .post('/api/admin/uploads/stream')
      .set('x-csrf-token', token)
      .field('title', 'Streamed upload')
      .attach('video', DEMO_VIDEO, { contentType: 'video/mp4' });

    expect(response.status).toBe(201);
    const video = await findVideo(testApp.context.db, response.body.videoId);
    expect(response.body.location).toBe(`/admin/videos/${video!.id}`);
    expect(video?.title).toBe('Streamed upload');
    expect(video?.contentType).toBe('video/mp4');
    expect(video?.sizeBytes).toBe(fs.statSync(DEMO_VIDEO).size);
    expect(video?.durationSeconds).toBeGreaterThan(0);
    expect(video?.published).toBe(false);
    expect(video?.storageKey).toBe(`videos/${video!.id}/color-bars.mp4`);
    expect(storedFiles()).toEqual([...before, video!.storageKey].sort());
    expect(await auditActions(video!.id)).toEqual(['video.create']);

    const grant = await admin.get(`/api/videos/${video!.id}/playback`).expect(200);
    const media = await admin.get(grant.body.url);
    expect(media.status).toBe(200);
    expect(Number(media.headers['content-length'])).toBe(fs.statSync(DEMO_VIDEO).size);
  });

  it('refuses a non-video and stores nothing', async () => {
    const before = storedFiles();
    const token = await csrfTokenOf(admin);

    const response = await admin
      .post('/api/admin/uploads/stream')
      .set('x-csrf-token', token)
      .field('title', 'Fake')
      .attach('video', Buffer.from('#!/bin/sh\necho this is not a video\n'.repeat(200)), { filename: 'fake.mp4', contentType: 'video/mp4' });

    expect(response.status).toBe(415);
    expect(response.body.error.message).toBe('This file is not a video. Upload an MP4, MOV, WebM or Ogg video file.');
    expect(storedFiles()).toEqual(before);
    const fakes = await testApp.context.db.selectFrom('videos').select('id').where('title', '=', 'Fake').execute();
    expect(fakes).toEqual([]);
  });

  it('refuses a declared non-video type', async () => {
    const before = storedFiles();
    const token = await csrfTokenOf(admin);

    const response = await admin
      .post('/api/admin/uploads/stream')
      .set('x-csrf-token', token)
      .attach('video', DEMO_POSTER, { contentType: 'image/jpeg' });

    expect(response.status).toBe(415);
    expect(response.body.error.code).toBe('NOT_A_VIDEO');
    expect(storedFiles()).toEqual(before);
  });

  it('refuses a video over MAX_UPLOAD_MB', async () => {
    const small = await createTestApp({ MAX_UPLOAD_MB: '1' });
    try {
      await addUser(small, 'admin@example.com', { admin: true });
      const agent = await loginAgent(small.app, 'admin@example.com');
      const token = await csrfTokenOf(agent);
      const oversized = Buffer.concat([fs.readFileSync(DEMO_VIDEO).subarray(0, 64), Buffer.alloc(1024 * 1024)]);

      const response = await agent
        .post('/api/admin/uploads/stream')
        .set('x-csrf-token', token)
        .attach('video', oversized, { filename: 'big.mp4', contentType: 'video/mp4' });

      expect(response.status).toBe(413);
      expect(response.body.error.message).toBe('The video is larger than the limit of 1 MB (MAX_UPLOAD_MB).');
      const videos = await small.context.db.selectFrom('videos').select('id').execute();
      expect(videos).toEqual([]);
    } finally {
      await small.close();
    }
  });

  it('title defaults to the file name', async () => {
    const token = await csrfTokenOf(admin);

    const response = await admin
      .post('/api/admin/uploads/stream')
      .set('x-csrf-token', token)
      .field('title', '')
      .attach('video', DEMO_VIDEO, { filename: 'my_holiday-film.mp4', contentType: 'video/mp4' });

    expect(response.status).toBe(201);
    expect((await findVideo(testApp.context.db, response.body.videoId))?.title).toBe('my holiday film');
  });

  it('form without a file is 400', async () => {
    const token = await csrfTokenOf(admin);

    const response = await admin.post('/api/admin/uploads/stream').set('x-csrf-token', token).field('title', 'Nothing');

    expect(response.status).toBe(400);
    expect(response.body.error.message).toBe('No video file was sent. Choose a video file and try again.');
  });
});

describe('import from local storage', () => {
  it('lists and registers objects under the prefix', async () => {
    const importDir = path.join(testApp.dataDir, 'media', 'import', 'season 1');
    fs.mkdirSync(importDir, { recursive: true });
    fs.copyFileSync(DEMO_VIDEO, path.join(importDir, 'episode_one.mp4'));
    fs.writeFileSync(path.join(importDir, 'notes.txt'), 'not a video');

    const page = await admin.get('/admin/videos/import');
    expect(page.status).toBe(200);
    expect(page.text).toContain('value="import/season 1/episode_one.mp4"');
    expect(page.text).toContain('value="import/season 1/notes.txt"');

    const response = await postForm(admin, '/admin/videos/import', { keys: ['import/season 1/episode_one.mp4', 'import/season 1/notes.txt'] });

    expect(response.status).toBe(303);
    expect(await flashAfter(admin, response.headers.location!)).toBe('Imported 1 as drafts. Skipped: import/season 1/notes.txt (not a video).');
    const imported = await testApp.context.db.selectFrom('videos').selectAll().where('storage_key', '=', 'import/season 1/episode_one.mp4').execute();
    expect(imported.map((row) => [row.title, row.published, row.content_type])).toEqual([['episode one', 0, 'video/mp4']]);
    const after = await admin.get('/admin/videos/import');
    expect(after.text).not.toContain('episode_one.mp4');
  });

  it('refuses a key outside the prefix', async () => {
    const video = await addDemoVideo(testApp);
    await postForm(admin, `/admin/videos/${video.id}/delete`);
    fs.mkdirSync(path.join(testApp.dataDir, 'media', 'private'), { recursive: true });
    fs.copyFileSync(DEMO_VIDEO, path.join(testApp.dataDir, 'media', 'private', 'secret.mp4'));

    const response = await postForm(admin, '/admin/videos/import', { keys: 'private/secret.mp4' });

    expect(response.status).toBe(303);
    expect(await flashAfter(admin, response.headers.location!)).toBe('Imported 0 as drafts. Skipped: private/secret.mp4 (not under import/ or already imported).');
    const rows = await testApp.context.db.selectFrom('videos').select('id').where('storage_key', '=', 'private/secret.mp4').execute();
    expect(rows).toEqual([]);
  });
});
