import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';

import { DatabaseRateLimitStore } from '../../src/auth/rate-limit-store.js';
import { addUser, createTestApp, csrfTokenFrom, type TestApp } from '../helpers/test-app.js';

/* Login attempt counters in the database: two app instances on one database count the same attempts. */

const opened: TestApp[] = [];

afterEach(async () => {
  await Promise.all(opened.splice(0).map((testApp) => testApp.close()));
});

async function failLogin(testApp: TestApp, email: string) {
  const agent = request.agent(testApp.app);
  const page = await agent.get('/login').expect(200);
  return agent.post('/login').type('form').send({ _csrf: csrfTokenFrom(page.text), email, password: 'not the password' });
}

describe('DatabaseRateLimitStore', () => {
  it('shares account counts between instances', async () => {
    const first = await createTestApp({ LOGIN_MAX_ATTEMPTS_PER_ACCOUNT: '2' });
    opened.push(first);
    const second = await createTestApp({ LOGIN_MAX_ATTEMPTS_PER_ACCOUNT: '2' }, first.dataDir);
    opened.push(second);
    await addUser(first, 'viewer@example.com');

    expect((await failLogin(first, 'viewer@example.com')).status).toBe(401);
    expect((await failLogin(second, 'viewer@example.com')).status).toBe(401);
    const third = await failLogin(first, 'viewer@example.com');

    expect(third.status).toBe(429);
    expect(Number(third.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('starts a new window after the old one ends', async () => {
    const testApp = await createTestApp();
    opened.push(testApp);
    const store = new DatabaseRateLimitStore(testApp.context.db, 'test:');
    store.init({ windowMs: 1000 } as never);

    expect((await store.increment('k')).totalHits).toBe(1);
    expect((await store.increment('k')).totalHits).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const fresh = await store.increment('k');
    store.shutdown();

    expect(fresh.totalHits).toBe(1);
    expect(fresh.resetTime!.getTime()).toBeGreaterThan(Date.now());
  });

  it('decrements and resets a key', async () => {
    const testApp = await createTestApp();
    opened.push(testApp);
    const store = new DatabaseRateLimitStore(testApp.context.db, 'test:');
    store.init({ windowMs: 60_000 } as never);
    await store.increment('k');
    await store.increment('k');

    await store.decrement('k');
    expect((await store.get('k'))?.totalHits).toBe(1);
    await store.resetKey('k');
    store.shutdown();

    expect(await store.get('k')).toBeUndefined();
  });

  it('keeps prefixes apart', async () => {
    const testApp = await createTestApp();
    opened.push(testApp);
    const ip = new DatabaseRateLimitStore(testApp.context.db, 'login-ip:');
    const account = new DatabaseRateLimitStore(testApp.context.db, 'login-account:');
    ip.init({ windowMs: 60_000 } as never);
    account.init({ windowMs: 60_000 } as never);

    await ip.increment('same');
    await ip.increment('same');
    const accountHits = await account.increment('same');
    ip.shutdown();
    account.shutdown();

    expect(accountHits.totalHits).toBe(1);
  });
});
