import type { Request } from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { OFFLOAD_LOCATION, shouldOffload } from '../../src/playback/storage-offload.js';
import { TEST_OFFLOAD_SECRET } from '../helpers/nginx-server.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';

function requestWith(headerValue: string | undefined): Request {
  return { get: (name: string) => (name.toLowerCase() === 'x-reelgate-offload' ? headerValue : undefined) } as unknown as Request;
}

describe('shouldOffload', () => {
  const offload = { mediaOffload: 'nginx' as const, mediaOffloadSecret: TEST_OFFLOAD_SECRET };

  it.each<[string, string | undefined, boolean]>([
    ['the secret', TEST_OFFLOAD_SECRET, true],
    ['no header', undefined, false],
    ['the old fixed value', 'nginx', false],
    ['the secret with a suffix', `${TEST_OFFLOAD_SECRET}0`, false],
    ['a prefix of the secret', TEST_OFFLOAD_SECRET.slice(0, 10), false],
    ['an empty value', '', false],
  ])('offload with %s: %s', (_name, headerValue, expected) => {
    expect(shouldOffload(requestWith(headerValue), offload)).toBe(expected);
  });

  it('never offloads with MEDIA_OFFLOAD=none', () => {
    expect(shouldOffload(requestWith(TEST_OFFLOAD_SECRET), { mediaOffload: 'none', mediaOffloadSecret: undefined })).toBe(false);
  });
});

describe('internal storage location reaching the app', () => {
  const s3Settings = { STORAGE: 's3', MEDIA_DELIVERY: 'proxy', S3_BUCKET: 'videos', S3_REGION: 'us-east-1', S3_ENDPOINT: 'http://127.0.0.1:9' };
  let offloading: TestApp;
  let streaming: TestApp;

  beforeAll(async () => {
    offloading = await createTestApp({ ...s3Settings, MEDIA_OFFLOAD: 'nginx', MEDIA_OFFLOAD_SECRET: TEST_OFFLOAD_SECRET });
    streaming = await createTestApp(s3Settings);
  });

  afterAll(async () => {
    await offloading.close();
    await streaming.close();
  });

  it('is a 503 naming storage when nginx lacks the location', async () => {
    const response = await request(offloading.app).get(OFFLOAD_LOCATION).expect(503);

    expect(response.body).toEqual({ error: { code: 'SERVICE_UNAVAILABLE', message: expect.stringContaining('storage') } });
    expect(response.headers['cache-control']).toBe('no-store');
  });

  it('is a plain 404 without MEDIA_OFFLOAD', async () => {
    await request(streaming.app).get(OFFLOAD_LOCATION).expect(404);
  });
});
