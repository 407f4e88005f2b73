import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { addDemoVideo, addUser, createTestApp, loginAgent, type TestApp } from '../helpers/test-app.js';

/* The absolute session lifetime (SESSION_MAX_HOURS=1 here), driven by the app's injectable clock. */

const MINUTE_MS = 60_000;

let testApp: TestApp;
let userId: string;
let startedAt: Date;

beforeEach(async () => {
  testApp = await createTestApp({ SESSION_MAX_HOURS: '1' });
  userId = (await addUser(testApp, 'sub@example.com', { subscription: { active: true } })).id;
  startedAt = testApp.clock.now;
});

afterEach(() => testApp.close());

function moveClockTo(minutesAfterLogin: number): void {
  testApp.clock.now = new Date(startedAt.getTime() + minutesAfterLogin * MINUTE_MS);
}

async function sessionRowsOfUser(): Promise<number> {
  const rows = await testApp.context.db.selectFrom('sessions').select('sid').where('user_id', '=', userId).execute();
  return rows.length;
}

describe('session max lifetime', () => {
  it('active session ends after the limit', async () => {
    const agent = await loginAgent(testApp.app, 'sub@example.com');

    const statuses = [];
    for (const minutes of [20, 40, 59]) {
      moveClockTo(minutes);
      statuses.push((await agent.get('/')).status);
    }
    moveClockTo(61);
    const late = await agent.get('/');

    expect(statuses).toEqual([200, 200, 200]);
    expect(late.status).toBe(303);
    expect(late.headers['location']).toBe('/login');
  });

  it('ended session is deleted', async () => {
    const agent = await loginAgent(testApp.app, 'sub@example.com');
    expect(await sessionRowsOfUser()).toBe(1);

    moveClockTo(61);
    await agent.get('/').expect(303);
    moveClockTo(0);
    const afterClockReset = await agent.get('/');

    expect(await sessionRowsOfUser()).toBe(0);
    expect(afterClockReset.status).toBe(303);
  });

  it('API gets 401 after the limit', async () => {
    const video = await addDemoVideo(testApp);
    const agent = await loginAgent(testApp.app, 'sub@example.com');

    moveClockTo(60);
    const response = await agent.get(`/api/videos/${video.id}/playback`);

    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe('NOT_LOGGED_IN');
  });

  it('new login starts a new lifetime', async () => {
    await loginAgent(testApp.app, 'sub@example.com');
    moveClockTo(90);

    const agent = await loginAgent(testApp.app, 'sub@example.com');
    moveClockTo(140);
    const response = await agent.get('/');

    expect(response.status).toBe(200);
  });

  it('session without loginAt is ended', async () => {
    const agent = await loginAgent(testApp.app, 'sub@example.com');
    const row = await testApp.context.db.selectFrom('sessions').select(['sid', 'data']).where('user_id', '=', userId).executeTakeFirstOrThrow();
    const { loginAt: _loginAt, ...withoutLoginAt } = JSON.parse(row.data) as Record<string, unknown>;
    await testApp.context.db.updateTable('sessions').set({ data: JSON.stringify(withoutLoginAt) }).where('sid', '=', row.sid).execute();

    const response = await agent.get('/');

    expect(response.status).toBe(303);
  });
});
