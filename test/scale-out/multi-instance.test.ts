import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startAppServer, type AppServer } from '../helpers/app-server.js';
import { startS3Server, type S3TestServer } from '../helpers/s3-server.js';
import { postgresAvailable, postgresEnvFor } from '../helpers/test-database.js';

/*
 * Two real server processes share one PostgreSQL schema and one bucket (s3rver, which checks URL expiry but
 * not signatures), as instances behind a load balancer would. Nothing an instance needs may live only in the
 * other's memory: a login on one is a session on both, and a revocation through one holds on the other.
 */

const SECRETS = { SESSION_SECRET: 'a'.repeat(16) + 'session-secret-for-tests', MEDIA_SIGNING_KEY: 'b'.repeat(16) + 'media-key-for-the-tests' };

let s3: S3TestServer;
let first: AppServer;
let second: AppServer;
let skipped = false;

beforeAll(async () => {
  if (!(await postgresAvailable())) {
    if (process.env.CI === 'true') throw new Error('PostgreSQL at 127.0.0.1:5432 is required under CI');
    skipped = true;
    return;
  }
  s3 = await startS3Server();
  const database = await postgresEnvFor(fs.mkdtempSync(path.join(os.tmpdir(), 'reelgate-scale-out-')));
  const shared = {
    ...database,
    ...SECRETS,
    STORAGE: 's3',
    S3_BUCKET: s3.bucket,
    S3_REGION: 'us-east-1',
    S3_ENDPOINT: s3.endpoint,
    S3_FORCE_PATH_STYLE: 'true',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
  };
  // Both start at once, as a deployment would: the migration lock makes them take turns.
  [first, second] = await Promise.all([startAppServer(shared), startAppServer({ ...shared, SEED_DEMO: 'false' }, { demo: false })]);
}, 90_000);

afterAll(async () => {
  await Promise.all([first?.stop(), second?.stop()]);
  await s3?.stop();
});

/** Logs in through `server` and returns the session cookie header. */
async function logIn(server: AppServer, email: string, password: string): Promise<string> {
  const page = await fetch(`${server.baseUrl}/login`);
  const preLoginCookie = cookieOf(page);
  const token = /name="_csrf" value="([^"]+)"/.exec(await page.text())?.[1] ?? '';

  const response = await fetch(`${server.baseUrl}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: preLoginCookie },
    body: new URLSearchParams({ _csrf: token, email, password }),
  });
  expect(response.status).toBe(303);
  return cookieOf(response);
}

function cookieOf(response: Response): string {
  const cookie = response.headers.getSetCookie().find((line) => line.startsWith('reelgate.sid='));
  if (!cookie) throw new Error(`no session cookie in the ${response.status} response`);
  return cookie.split(';')[0]!;
}

async function firstVideoId(): Promise<string> {
  const videos = JSON.parse(await first.runCli(['video', 'list', '--json'])) as Array<{ id: string }>;
  return videos[0]!.id;
}

describe('two instances on one PostgreSQL', () => {
  it('both are ready', async (context) => {
    if (skipped) context.skip();
    expect((await fetch(`${first.baseUrl}/readyz`)).status).toBe(200);
    expect((await fetch(`${second.baseUrl}/readyz`)).status).toBe(200);
  });

  it('login on one is a session on the other', async (context) => {
    if (skipped) context.skip();
    const cookie = await logIn(first, first.subscriber.email, first.subscriber.password);
    const videoId = await firstVideoId();

    const grant = await fetch(`${second.baseUrl}/api/videos/${videoId}/playback`, { headers: { Cookie: cookie } });

    expect(grant.status).toBe(200);
    const body = (await grant.json()) as { url: string };
    expect(new URL(body.url).origin).toBe(s3.endpoint);
  });

  it('revocation through one holds on the other', async (context) => {
    if (skipped) context.skip();
    const cookie = await logIn(second, first.subscriber.email, first.subscriber.password);
    const videoId = await firstVideoId();
    expect((await fetch(`${second.baseUrl}/api/videos/${videoId}/playback`, { headers: { Cookie: cookie } })).status).toBe(200);

    await first.runCli(['subscription', 'set', first.subscriber.email, '--active', 'false']);

    const refused = await fetch(`${second.baseUrl}/api/videos/${videoId}/playback`, { headers: { Cookie: cookie } });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('SUBSCRIPTION_INACTIVE');
    await first.runCli(['subscription', 'set', first.subscriber.email, '--active', 'true']);
  });

  it('logout on one ends the session on the other', async (context) => {
    if (skipped) context.skip();
    const cookie = await logIn(first, first.subscriber.email, first.subscriber.password);
    const page = await fetch(`${first.baseUrl}/`, { headers: { Cookie: cookie } });
    const token = /name="_csrf" value="([^"]+)"/.exec(await page.text())?.[1] ?? '';

    const logout = await fetch(`${first.baseUrl}/logout`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: cookie },
      body: new URLSearchParams({ _csrf: token }),
    });
    expect(logout.status).toBe(303);

    const after = await fetch(`${second.baseUrl}/api/videos/${await firstVideoId()}/playback`, { headers: { Cookie: cookie } });
    expect(after.status).toBe(401);
  });
});
