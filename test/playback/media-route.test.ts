import fs from 'node:fs';

import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { setSubscription } from '../../src/subscriptions/subscription-repository.js';
import type { User } from '../../src/users/user-repository.js';
import { collectBody } from '../helpers/binary-body.js';
import { DEMO_VIDEO, addDemoVideo, addUser, createTestApp, loginAgent, type TestApp } from '../helpers/test-app.js';

/* GET /media/:id in embedded mode: local files served by the app behind a signed, session-bound URL. */

const demoBytes = fs.readFileSync(DEMO_VIDEO);
const size = demoBytes.length;

let testApp: TestApp;
let videoId: string;
let subscriber: User;
let agent: Awaited<ReturnType<typeof loginAgent>>;
let other: Awaited<ReturnType<typeof loginAgent>>;

beforeAll(async () => {
  testApp = await createTestApp();
  videoId = (await addDemoVideo(testApp)).id;
  subscriber = await addUser(testApp, 'sub@example.com', { subscription: { active: true } });
  await addUser(testApp, 'other@example.com', { subscription: { active: true } });
  agent = await loginAgent(testApp.app, 'sub@example.com');
  other = await loginAgent(testApp.app, 'other@example.com');
});

afterAll(() => testApp.close());

async function grantUrl(): Promise<string> {
  const response = await agent.get(`/api/videos/${videoId}/playback`).expect(200);
  return response.body.url;
}

describe('GET /media/:id as subscriber', () => {
  it('serves the whole file', async () => {
    const response = await agent.get(await grantUrl()).buffer(true).parse(collectBody).expect(200);

    expect(response.headers['content-type']).toBe('video/mp4');
    expect(response.headers['accept-ranges']).toBe('bytes');
    expect(response.headers['content-length']).toBe(String(size));
    expect(response.body).toEqual(demoBytes);
  });

  it.each([
    ['bytes=0-1', 0, 1],
    ['bytes=1000-', 1000, size - 1],
    ['bytes=-500', size - 500, size - 1],
    [`bytes=100-${size + 5000}`, 100, size - 1],
  ])('answers %s with 206', async (range, start, end) => {
    const response = await agent.get(await grantUrl()).set('Range', range).buffer(true).parse(collectBody).expect(206);

    expect(response.headers['content-range']).toBe(`bytes ${start}-${end}/${size}`);
    expect(response.headers['content-length']).toBe(String(end - start + 1));
    expect(response.body).toEqual(demoBytes.subarray(start, end + 1));
  });

  it('answers an unsatisfiable range with 416', async () => {
    const response = await agent.get(await grantUrl()).set('Range', `bytes=${size}-`).expect(416);

    expect(response.headers['content-range']).toBe(`bytes */${size}`);
  });

  it('refuses a tampered signature', async () => {
    const url = await grantUrl();
    const tampered = url.replace(/sig=(.)/, (_match, first: string) => `sig=${first === 'A' ? 'B' : 'A'}`);

    const response = await agent.get(tampered).expect(403);

    expect(response.body.error.code).toBe('GRANT_INVALID');
    expect(response.headers['content-type']).toMatch(/^application\/json/);
  });

  it('refuses a changed expiry', async () => {
    const url = await grantUrl();
    const extended = url.replace(/exp=(\d+)/, (_match, exp: string) => `exp=${Number(exp) + 3600}`);

    await agent.get(extended).expect(403);
  });

  it('refuses the URL after its TTL', async () => {
    const url = await grantUrl();
    testApp.clock.now = new Date(Date.now() + 61_000);
    try {
      const response = await agent.get(url).set('Range', 'bytes=0-1').expect(403);
      expect(response.body.error.code).toBe('GRANT_EXPIRED');
    } finally {
      testApp.clock.now = new Date();
    }
  });

  it('refuses the URL right after a revocation', async () => {
    const url = await grantUrl();
    await agent.get(url).set('Range', 'bytes=0-1').expect(206);

    await setSubscription(testApp.context.db, { userId: subscriber.id, active: false, endsAt: null });
    try {
      const response = await agent.get(url).set('Range', 'bytes=2-3').expect(403);
      expect(response.body.error.code).toBe('SUBSCRIPTION_INACTIVE');
    } finally {
      await setSubscription(testApp.context.db, { userId: subscriber.id, active: true, endsAt: null });
    }
  });

  it('refuses a missing signature', async () => {
    await agent.get(`/media/${videoId}`).expect(403);
  });
});

describe('GET /media/:id with a copied URL', () => {
  it('gets 401 and no bytes without the session', async () => {
    const response = await request(testApp.app).get(await grantUrl()).set('Range', 'bytes=0-1');

    expect(response.status).toBe(401);
    expect(response.headers['content-range']).toBeUndefined();
    expect(response.text).not.toContain('ftyp');
  });

  it('gets 403 in another subscriber\'s session', async () => {
    const response = await other.get(await grantUrl()).set('Range', 'bytes=0-1');

    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe('GRANT_INVALID');
  });
});
