import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable, Transform, pipeline } from 'node:stream';

import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { S3Storage } from '../../src/storage/s3-storage.js';
import { setSubscription } from '../../src/subscriptions/subscription-repository.js';
import { insertVideo, type Video } from '../../src/videos/video-repository.js';
import { startS3Server, type S3TestServer } from '../helpers/s3-server.js';
import { addUser, createTestApp, csrfTokenFrom, loginAgent, PASSWORD, sessionCookieOf, type TestApp } from '../helpers/test-app.js';

/*
 * S3 proxy delivery through the whole app against s3rver on loopback: the browser only ever talks to the app,
 * which checks session, signed expiry and subscription on every request and streams from S3.
 */

const SMALL_SIZE = 64 * 1024;
const LARGE_SIZE = 24 * 1024 * 1024;
const ABORT_LOOP_COUNT = 200;
const smallBytes = randomBytes(SMALL_SIZE);
const largeBytes = randomBytes(LARGE_SIZE);

let s3: S3TestServer;
let testApp: TestApp;
let storage: S3Storage;
let agent: Awaited<ReturnType<typeof loginAgent>>;
let subscriberId: string;
let small: Video;
let large: Video;

beforeAll(async () => {
  s3 = await startS3Server();
  testApp = await createTestApp({
    STORAGE: 's3',
    MEDIA_DELIVERY: 'proxy',
    S3_BUCKET: s3.bucket,
    S3_REGION: 'us-east-1',
    S3_ENDPOINT: s3.endpoint,
    S3_FORCE_PATH_STYLE: 'true',
    S3_PREFIX: 'library',
    // A small pool makes a leaked socket visible: the fifth stuck download would block every later request.
    S3_MAX_SOCKETS: '4',
  });
  storage = testApp.context.storage as S3Storage;

  small = await storeVideo('videos/small/clip.mp4', smallBytes);
  large = await storeVideo('videos/large/film.mp4', largeBytes);

  subscriberId = (await addUser(testApp, 'sub@example.com', { subscription: { active: true } })).id;
  await addUser(testApp, 'other@example.com', { subscription: { active: true } });
  agent = await loginAgent(testApp.app, 'sub@example.com');
});

afterAll(async () => {
  await testApp.close();
  await s3.stop();
});

async function storeVideo(key: string, bytes: Buffer): Promise<Video> {
  await storage.write(key, Readable.from([bytes]), { contentType: 'application/octet-stream' });
  return insertVideo(testApp.context.db, {
    title: key, description: '', storageKey: key, contentType: 'video/mp4', sizeBytes: bytes.length, durationSeconds: null, posterKey: null,
  });
}

async function grantUrl(video: Video, playbackAgent = agent): Promise<string> {
  const response = await playbackAgent.get(`/api/videos/${video.id}/playback`).expect(200);
  expect(response.headers['cache-control']).toBe('no-store');
  return response.body.url;
}

describe('proxy delivery of an S3 object', () => {
  it('grant is an app URL', async () => {
    const url = await grantUrl(small);

    expect(url).toMatch(new RegExp(`^/media/${small.id}\\?exp=\\d+&sig=[A-Za-z0-9_-]{43}$`));
  });

  it('full GET', async () => {
    const response = await agent.get(await grantUrl(small)).buffer(true).expect(200);

    expect(response.headers['content-type']).toBe('video/mp4');
    expect(response.headers['content-length']).toBe(String(SMALL_SIZE));
    expect(response.headers['accept-ranges']).toBe('bytes');
    expect(response.headers['etag']).toMatch(/^"[0-9a-f]{32}"$/);
    expect(response.headers['last-modified']).toMatch(/ GMT$/);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(Buffer.compare(response.body as Buffer, smallBytes)).toBe(0);
  });

  it.each([
    ['bytes=100-199', 100, 199],
    ['bytes=-10', SMALL_SIZE - 10, SMALL_SIZE - 1],
    ['bytes=65000-', 65000, SMALL_SIZE - 1],
    ['bytes=65000-999999', 65000, SMALL_SIZE - 1],
  ])('Range %s', async (range, start, end) => {
    const response = await agent.get(await grantUrl(small)).set('Range', range).buffer(true).expect(206);

    expect(response.headers['content-range']).toBe(`bytes ${start}-${end}/${SMALL_SIZE}`);
    expect(response.headers['content-length']).toBe(String(end - start + 1));
    expect(response.headers['content-type']).toBe('video/mp4');
    expect(Buffer.compare(response.body as Buffer, smallBytes.subarray(start, end + 1))).toBe(0);
  });

  it('unsatisfiable Range is 416', async () => {
    const response = await agent.get(await grantUrl(small)).set('Range', `bytes=${SMALL_SIZE}-`).expect(416);

    expect(response.headers['content-range']).toBe(`bytes */${SMALL_SIZE}`);
    expect(response.headers['content-type']).toBeUndefined();
  });

  it('HEAD has headers only', async () => {
    const response = await agent.head(await grantUrl(small)).set('Range', 'bytes=0-9').expect(200);

    expect(response.headers['content-length']).toBe(String(SMALL_SIZE));
    expect(response.headers['accept-ranges']).toBe('bytes');
    expect(response.headers['content-range']).toBeUndefined();
    expect(response.text).toBeUndefined();
  });

  it('If-None-Match is 304', async () => {
    const url = await grantUrl(small);
    const first = await agent.head(url).expect(200);

    const response = await agent.get(url).set('If-None-Match', first.headers['etag']!).expect(304);

    expect(response.headers['etag']).toBe(first.headers['etag']);
    expect(response.headers['content-type']).toBeUndefined();
  });

  it('If-Range with current ETag is 206', async () => {
    const url = await grantUrl(small);
    const { headers } = await agent.head(url).expect(200);

    const response = await agent.get(url).set('Range', 'bytes=0-3').set('If-Range', headers['etag']!).buffer(true).expect(206);

    expect(Buffer.compare(response.body as Buffer, smallBytes.subarray(0, 4))).toBe(0);
  });

  it('If-Range with old ETag is 200', async () => {
    const response = await agent
      .get(await grantUrl(small))
      .set('Range', 'bytes=0-3')
      .set('If-Range', '"00000000000000000000000000000000"')
      .buffer(true)
      .expect(200);

    expect(response.headers['content-length']).toBe(String(SMALL_SIZE));
  });

  it('missing S3 object is 404', async () => {
    const ghost = await insertVideo(testApp.context.db, {
      title: 'ghost', description: '', storageKey: 'videos/ghost/none.mp4', contentType: 'video/mp4', sizeBytes: 1, durationSeconds: null, posterKey: null,
    });

    const response = await agent.get(await grantUrl(ghost)).expect(404);

    expect(response.body.error.code).toBe('NOT_FOUND');
  });
});

describe('proxy delivery, copied grant', () => {
  it('without session is 401, no bytes', async () => {
    const url = await grantUrl(small);

    const response = await request(testApp.app).get(url).set('Range', 'bytes=0-99').buffer(true);

    expect(response.status).toBe(401);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.body).toEqual({ error: { code: 'NOT_LOGGED_IN', message: 'You are not logged in. Log in and try again.' } });
    expect(response.headers['content-range']).toBeUndefined();
  });

  it('other subscriber gets 403', async () => {
    const url = await grantUrl(small);
    const other = await loginAgent(testApp.app, 'other@example.com');

    const response = await other.get(url).set('Range', 'bytes=0-99');

    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe('GRANT_INVALID');
  });

  it('expired grant is 403', async () => {
    const url = await grantUrl(small);
    const issuedAt = testApp.clock.now;
    testApp.clock.now = new Date(issuedAt.getTime() + (testApp.config.mediaUrlTtlSeconds + 1) * 1000);
    try {
      const response = await agent.get(url).set('Range', 'bytes=0-9');

      expect(response.status).toBe(403);
      expect(response.body.error.code).toBe('GRANT_EXPIRED');
    } finally {
      testApp.clock.now = issuedAt;
    }
  });

  it('revoked subscription stops the next Range', async () => {
    const url = await grantUrl(small);
    await agent.get(url).set('Range', 'bytes=0-9').expect(206);

    await setSubscription(testApp.context.db, { userId: subscriberId, active: false, endsAt: null });
    try {
      const response = await agent.get(url).set('Range', 'bytes=10-19');

      expect(response.status).toBe(403);
      expect(response.body.error.code).toBe('SUBSCRIPTION_INACTIVE');
    } finally {
      await setSubscription(testApp.context.db, { userId: subscriberId, active: true, endsAt: null });
    }
  });
});

/** Logs in with plain requests and returns the Cookie header value, for clients outside supertest. */
async function sessionCookie(email: string): Promise<string> {
  const page = await request(testApp.app).get('/login').expect(200);
  const preLogin = sessionCookieOf(page.headers['set-cookie']);
  const response = await request(testApp.app)
    .post('/login')
    .set('Cookie', `reelgate.sid=${preLogin}`)
    .type('form')
    .send({ _csrf: csrfTokenFrom(page.text), email, password: PASSWORD })
    .expect(303);
  return `reelgate.sid=${sessionCookieOf(response.headers['set-cookie'])}`;
}

interface Listening {
  origin: string;
  close(): Promise<void>;
}

async function listen(): Promise<Listening> {
  const server = http.createServer(testApp.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** Requests a range, waits for the first body chunk, then drops the connection as a seeking player does. */
function fetchFirstChunkThenAbort(url: string, cookie: string, range: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const clientRequest = http.get(url, { headers: { Cookie: cookie, Range: range }, agent: false }, (response) => {
      response.once('data', () => {
        clientRequest.destroy();
        resolve(response.statusCode ?? 0);
      });
      response.once('error', () => undefined);
    });
    clientRequest.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'ECONNRESET') reject(err);
    });
  });
}

/** Polls until `read` returns a value that `done` accepts, for at most `timeoutMs`, and returns the last value. */
async function pollUntil<T>(read: () => T, done: (value: T) => boolean, timeoutMs = 5000, intervalMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = read();
  while (!done(value) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
    value = read();
  }
  return value;
}

describe('proxy delivery, aborted downloads', () => {
  it('200 aborts leave no S3 sockets', async () => {
    const server = await listen();
    try {
      const cookie = await sessionCookie('sub@example.com');
      const url = `${server.origin}${await grantUrl(large)}`;
      const statuses = new Map<number, number>();

      for (let i = 0; i < ABORT_LOOP_COUNT; i += 1) {
        const start = (i * 997 * 1024) % (LARGE_SIZE - 1024);
        const status = await fetchFirstChunkThenAbort(url, cookie, `bytes=${start}-`);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
      const socketsAfterLoop = await pollUntil(() => storage.socketsInUse(), (count) => count === 0);
      const next = await fetch(url, { headers: { Cookie: cookie, Range: 'bytes=1000-1999' } });
      const nextBody = Buffer.from(await next.arrayBuffer());

      expect(Object.fromEntries(statuses)).toEqual({ 206: ABORT_LOOP_COUNT });
      expect(socketsAfterLoop).toBe(0);
      expect(next.status).toBe(206);
      expect(Buffer.compare(nextBody, largeBytes.subarray(1000, 2000))).toBe(0);
    } finally {
      await server.close();
    }
  }, 60_000);

  it('slow client gets backpressure', async () => {
    const server = await listen();
    const bytesReadFromS3 = { count: 0 };
    const realRead = storage.read.bind(storage);
    // Counts the bytes that the app pulls from S3 through a Transform, which keeps backpressure intact.
    const readSpy = vi.spyOn(storage, 'read').mockImplementation(async (key, options) => {
      const body = await realRead(key, options);
      const counter = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          bytesReadFromS3.count += chunk.length;
          callback(null, chunk);
        },
      });
      pipeline(body, counter, () => undefined);
      return counter;
    });
    let clientRequest: http.ClientRequest | undefined;
    try {
      const cookie = await sessionCookie('sub@example.com');
      const url = `${server.origin}${await grantUrl(large)}`;

      // The client never reads the body, like a paused player with a full buffer.
      const status = await new Promise<number>((resolve, reject) => {
        clientRequest = http.get(url, { headers: { Cookie: cookie }, agent: false }, (response) => resolve(response.statusCode ?? 0));
        clientRequest.once('error', reject);
      });
      let previous = -1;
      const settled = await pollUntil(
        () => {
          const settledNow = bytesReadFromS3.count === previous && previous > 0;
          previous = bytesReadFromS3.count;
          return settledNow;
        },
        (isSettled) => isSettled,
        10_000,
        250,
      );
      const socketsWhilePaused = storage.socketsInUse();

      expect(status).toBe(200);
      expect(settled).toBe(true);
      // Socket buffers on loopback hold a few MiB; without backpressure the app would read all 24 MiB.
      expect(bytesReadFromS3.count).toBeLessThan(LARGE_SIZE / 2);
      expect(socketsWhilePaused).toBe(1);

      clientRequest?.destroy();
      const socketsAfterAbort = await pollUntil(() => storage.socketsInUse(), (count) => count === 0);
      expect(socketsAfterAbort).toBe(0);
    } finally {
      clientRequest?.destroy();
      readSpy.mockRestore();
      await server.close();
    }
  }, 30_000);
});
