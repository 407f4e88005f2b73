import fs from 'node:fs';
import { Readable } from 'node:stream';

import { ListMultipartUploadsCommand, S3Client } from '@aws-sdk/client-s3';
import request from 'supertest';
import { s3AppEnv } from '../helpers/s3-server.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { sweepAbandonedUploads } from '../../src/admin/videos/direct-upload-service.js';
import { findVideo } from '../../src/videos/video-repository.js';
import { DEMO_VIDEO, addUser, createTestApp, loginAgent, type TestApp } from '../helpers/test-app.js';
import { csrfTokenOf, postForm } from './admin-helpers.js';
import { startMultipartS3Server, type MultipartS3Server } from './s3-multipart-server.js';

/*
 * Drives the direct-upload API the way public/js/admin-upload.js does: plan the upload with the app, PUT
 * the bytes to presigned URLs with fetch, then complete. The S3-compatible server checks presigned URL
 * expiry but not signatures, so these tests prove the flow and the URLs' scope, not their signatures.
 */

const MIB = 1024 * 1024;
const demoBytes = fs.readFileSync(DEMO_VIDEO);
/** The demo video padded to 10 MiB: two parts of the 8 MiB minimum part size. */
const largeVideo = Buffer.concat([demoBytes, Buffer.alloc(10 * MIB - demoBytes.length)]);

let s3: MultipartS3Server;
let testApp: TestApp;
let admin: ReturnType<typeof request.agent>;
let subscriber: ReturnType<typeof request.agent>;
let token: string;

beforeAll(async () => {
  s3 = await startMultipartS3Server();
  testApp = await createTestApp({
    ...s3AppEnv(s3),
    MULTIPART_THRESHOLD_MB: '5',
  });
  await addUser(testApp, 'admin@example.com', { admin: true });
  await addUser(testApp, 'sub@example.com', { subscription: { active: true } });
  admin = await loginAgent(testApp.app, 'admin@example.com');
  subscriber = await loginAgent(testApp.app, 'sub@example.com');
  token = await csrfTokenOf(admin);
});

beforeEach(() => {
  testApp.clock.now = new Date();
});

afterAll(async () => {
  await testApp.close();
  await s3.stop();
});

function api(method: 'post' | 'delete', path: string) {
  return admin[method](path).set('x-csrf-token', token);
}

async function startUpload(body: { title: string; fileName: string; size: number; contentType: string }) {
  const response = await api('post', '/api/admin/uploads').send(body);
  expect(response.status).toBe(201);
  return response.body;
}

async function putParts(uploadId: string, partSize: number, partCount: number, bytes: Buffer) {
  const urls = await api('post', `/api/admin/uploads/${uploadId}/part-urls`).send({ partNumbers: Array.from({ length: partCount }, (_, i) => i + 1) });
  expect(urls.status).toBe(200);

  return Promise.all(
    Array.from({ length: partCount }, async (_, index) => {
      const partNumber = index + 1;
      const url: string = urls.body.urls[partNumber];
      expect([...new URL(url).searchParams.keys()].filter((name) => /checksum/i.test(name))).toEqual([]);
      const response = await fetch(url, { method: 'PUT', body: new Uint8Array(bytes.subarray(index * partSize, (index + 1) * partSize)) });
      expect(response.status).toBe(200);
      return { partNumber, etag: response.headers.get('etag')! };
    }),
  );
}

async function pendingUploads() {
  return testApp.context.db.selectFrom('pending_uploads').selectAll().execute();
}

describe('multipart upload', () => {
  it('completes, then is granted and served', async () => {
    const plan = await startUpload({ title: 'Big upload', fileName: 'big film.mp4', size: largeVideo.length, contentType: 'video/mp4' });
    expect(plan.mode).toBe('multipart');
    expect(plan.partSize).toBe(8 * MIB);
    expect(plan.partCount).toBe(2);

    const parts = await putParts(plan.uploadId, plan.partSize, plan.partCount, largeVideo);
    const completed = await api('post', `/api/admin/uploads/${plan.uploadId}/complete`).send({ parts });

    expect(completed.status).toBe(200);
    expect(completed.body).toEqual({ videoId: plan.uploadId, location: `/admin/videos/${plan.uploadId}` });
    const video = await findVideo(testApp.context.db, plan.uploadId);
    expect(video?.title).toBe('Big upload');
    expect(video?.sizeBytes).toBe(largeVideo.length);
    expect(video?.contentType).toBe('video/mp4');
    expect(video?.storageKey).toBe(`videos/${plan.uploadId}/big film.mp4`);
    expect(await pendingUploads()).toEqual([]);
    expect(await s3.storedUploadIds()).toEqual([]);

    expect((await postForm(admin, `/admin/videos/${video!.id}/publish`, { published: 'true' })).status).toBe(303);
    const grant = await subscriber.get(`/api/videos/${video!.id}/playback`);
    expect(grant.status).toBe(200);
    const media = await fetch(grant.body.url, { headers: { range: `bytes=${largeVideo.length - 16}-` } });
    expect(media.status).toBe(206);
    expect(Buffer.from(await media.arrayBuffer())).toEqual(largeVideo.subarray(largeVideo.length - 16));
  });

  it('abort leaves no parts behind', async () => {
    const plan = await startUpload({ title: 'Abandoned', fileName: 'abandoned.mp4', size: largeVideo.length, contentType: 'video/mp4' });
    await putParts(plan.uploadId, plan.partSize, 1, largeVideo);
    const [pending] = await pendingUploads();
    expect(await testApp.context.storage.listParts(pending!.storage_key, pending!.multipart_upload_id!)).toHaveLength(1);
    const client = new S3Client({ region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true });
    const before = await client.send(new ListMultipartUploadsCommand({ Bucket: s3.bucket }));
    expect(before.Uploads?.map((upload) => upload.Key)).toEqual([pending!.storage_key]);

    const response = await api('delete', `/api/admin/uploads/${plan.uploadId}`);

    expect(response.status).toBe(200);
    expect(await s3.storedUploadIds()).toEqual([]);
    const after = await client.send(new ListMultipartUploadsCommand({ Bucket: s3.bucket }));
    client.destroy();
    expect(after.Uploads ?? []).toEqual([]);
    await expect(testApp.context.storage.listParts(pending!.storage_key, pending!.multipart_upload_id!)).rejects.toThrow(/upload does not exist/);
    expect(await pendingUploads()).toEqual([]);
    expect(await findVideo(testApp.context.db, plan.uploadId)).toBeUndefined();
  });

  it('sweep aborts uploads older than a day', async () => {
    const plan = await startUpload({ title: 'Forgotten', fileName: 'forgotten.mp4', size: largeVideo.length, contentType: 'video/mp4' });
    await putParts(plan.uploadId, plan.partSize, 1, largeVideo);

    testApp.clock.now = new Date(Date.now() + 23 * 60 * 60 * 1000);
    expect(await sweepAbandonedUploads(testApp.context)).toBe(0);
    expect(await s3.storedUploadIds()).toHaveLength(1);

    testApp.clock.now = new Date(Date.now() + 25 * 60 * 60 * 1000);
    expect(await sweepAbandonedUploads(testApp.context)).toBe(1);
    expect(await s3.storedUploadIds()).toEqual([]);
    expect(await pendingUploads()).toEqual([]);
  });

  it('part beyond the last is refused', async () => {
    const plan = await startUpload({ title: 'Range', fileName: 'range.mp4', size: largeVideo.length, contentType: 'video/mp4' });

    const response = await api('post', `/api/admin/uploads/${plan.uploadId}/part-urls`).send({ partNumbers: [3] });

    expect(response.status).toBe(409);
    expect(response.body.error.message).toBe('Part 3 is beyond the last part (2) of this upload.');
    await api('delete', `/api/admin/uploads/${plan.uploadId}`);
  });
});

describe('single PUT upload', () => {
  it('registers a small video', async () => {
    const plan = await startUpload({ title: '', fileName: 'small_clip.mp4', size: demoBytes.length, contentType: 'video/mp4' });
    expect(plan.mode).toBe('single');
    expect([...new URL(plan.url).searchParams.keys()].filter((name) => /checksum/i.test(name))).toEqual([]);

    const put = await fetch(plan.url, { method: 'PUT', headers: { 'content-type': plan.contentType }, body: demoBytes });
    expect(put.status).toBe(200);
    const completed = await api('post', `/api/admin/uploads/${plan.uploadId}/complete`).send({});

    expect(completed.status).toBe(200);
    const video = await findVideo(testApp.context.db, plan.uploadId);
    expect(video?.title).toBe('small clip');
    expect(video?.sizeBytes).toBe(demoBytes.length);
    expect(video?.durationSeconds).toBeGreaterThan(0);
  });

  it('non-video is deleted and refused', async () => {
    const fake = Buffer.from('<html>not a video</html>'.repeat(10));
    const plan = await startUpload({ title: 'Fake', fileName: 'fake.mp4', size: fake.length, contentType: 'video/mp4' });
    await fetch(plan.url, { method: 'PUT', headers: { 'content-type': 'video/mp4' }, body: fake });
    const [pending] = await pendingUploads();

    const completed = await api('post', `/api/admin/uploads/${plan.uploadId}/complete`).send({});

    expect(completed.status).toBe(415);
    expect(completed.body.error.message).toBe('This file is not a video. Upload an MP4, MOV, WebM or Ogg video file.');
    expect(await testApp.context.storage.stat(pending!.storage_key)).toBeNull();
    expect(await findVideo(testApp.context.db, plan.uploadId)).toBeUndefined();
    expect(await pendingUploads()).toEqual([]);
  });

  it('declared non-video type is refused', async () => {
    const response = await api('post', '/api/admin/uploads').send({ title: 'Doc', fileName: 'doc.pdf', size: 100, contentType: 'application/pdf' });

    expect(response.status).toBe(400);
    expect(response.body.error.message).toBe('This file is not a video. Upload an MP4, MOV, WebM or Ogg video file.');
    expect(await pendingUploads()).toEqual([]);
  });

  it('file over MAX_UPLOAD_MB is refused', async () => {
    const response = await api('post', '/api/admin/uploads').send({ title: 'Huge', fileName: 'huge.mp4', size: 6 * 1024 * MIB, contentType: 'video/mp4' });

    expect(response.status).toBe(413);
    expect(response.body.error.code).toBe('VIDEO_TOO_LARGE');
  });
});

describe('S3 pages', () => {
  it('CSP lets the browser reach the bucket', async () => {
    const response = await admin.get('/admin/videos/upload');

    expect(response.status).toBe(200);
    expect(response.headers['content-security-policy']).toContain(`connect-src 'self' ${s3.endpoint}`);
    expect(response.text).toContain('data-mode="direct"');
  });

  it('import lists and registers bucket objects', async () => {
    await testApp.context.storage.write('import/from-bucket.mp4', Readable.from([demoBytes]), { contentType: 'video/mp4' });

    const page = await admin.get('/admin/videos/import');
    expect(page.status).toBe(200);
    expect(page.text).toContain('value="import/from-bucket.mp4"');

    const response = await postForm(admin, '/admin/videos/import', { keys: 'import/from-bucket.mp4' });

    expect(response.status).toBe(303);
    const rows = await testApp.context.db.selectFrom('videos').selectAll().where('storage_key', '=', 'import/from-bucket.mp4').execute();
    expect(rows.map((row) => [row.title, row.size_bytes, row.content_type])).toEqual([['from bucket', demoBytes.length, 'video/mp4']]);
  });
});
