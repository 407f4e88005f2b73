import { MemoryStore } from 'express-rate-limit';
import request from 'supertest';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { LOGIN_WINDOW_MS, loginRateLimits } from '../../src/auth/login-rate-limit.js';
import { PASSWORD, addUser, createTestApp, csrfTokenFrom, type TestApp } from '../helpers/test-app.js';

/*
 * Login rate limits through the real login form. Every request comes from the loopback address, so all
 * attempts share one per-IP counter. Tests of the account limit raise the IP limit out of the way.
 */

let testApp: TestApp | undefined;

afterEach(async () => {
  await testApp?.close();
  testApp = undefined;
});

async function appWith(env: Record<string, string>): Promise<TestApp> {
  testApp = await createTestApp(env);
  await addUser(testApp, 'sub@example.com', { subscription: { active: true } });
  await addUser(testApp, 'other@example.com');
  return testApp;
}

/** Makes one login attempt from a fresh browser, which loads the form and then posts it. */
async function attemptLogin(app: TestApp, email: string, password: string) {
  const agent = request.agent(app.app);
  const page = await agent.get('/login').expect(200);
  return agent.post('/login').type('form').send({ _csrf: csrfTokenFrom(page.text), email, password, next: '/videos' });
}

describe('login rate limit per account', () => {
  it('locks after failed attempts', async () => {
    const app = await appWith({ LOGIN_MAX_ATTEMPTS_PER_ACCOUNT: '3', LOGIN_MAX_ATTEMPTS_PER_IP: '100' });

    const statuses = [];
    for (let i = 0; i < 3; i += 1) statuses.push((await attemptLogin(app, 'sub@example.com', 'wrong password')).status);
    const locked = await attemptLogin(app, 'sub@example.com', PASSWORD);

    expect(statuses).toEqual([401, 401, 401]);
    expect(locked.status).toBe(429);
    expect(locked.text).toContain('Too many login attempts. Wait 15 minutes and try again.');
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(LOGIN_WINDOW_MS / 1000 - 60);
    expect(Number(locked.headers['retry-after'])).toBeLessThanOrEqual(LOGIN_WINDOW_MS / 1000);
    expect(locked.headers['location']).toBeUndefined();
  });

  it('key is the normalised email', async () => {
    const app = await appWith({ LOGIN_MAX_ATTEMPTS_PER_ACCOUNT: '2', LOGIN_MAX_ATTEMPTS_PER_IP: '100' });

    await attemptLogin(app, 'SUB@example.com', 'wrong password').then((response) => expect(response.status).toBe(401));
    await attemptLogin(app, '  sub@EXAMPLE.com ', 'wrong password').then((response) => expect(response.status).toBe(401));
    const locked = await attemptLogin(app, 'sub@example.com', PASSWORD);

    expect(locked.status).toBe(429);
  });

  it('successful logins do not count', async () => {
    const app = await appWith({ LOGIN_MAX_ATTEMPTS_PER_ACCOUNT: '2', LOGIN_MAX_ATTEMPTS_PER_IP: '100' });

    const statuses = [];
    for (let i = 0; i < 4; i += 1) statuses.push((await attemptLogin(app, 'sub@example.com', PASSWORD)).status);

    expect(statuses).toEqual([303, 303, 303, 303]);
  });

  it('other accounts are unaffected', async () => {
    const app = await appWith({ LOGIN_MAX_ATTEMPTS_PER_ACCOUNT: '1', LOGIN_MAX_ATTEMPTS_PER_IP: '100' });
    await attemptLogin(app, 'sub@example.com', 'wrong password').then((response) => expect(response.status).toBe(401));

    const other = await attemptLogin(app, 'other@example.com', PASSWORD);
    const locked = await attemptLogin(app, 'sub@example.com', PASSWORD);

    expect(other.status).toBe(303);
    expect(locked.status).toBe(429);
  });
});

describe('login rate limit per IP', () => {
  it('counts every attempt', async () => {
    const app = await appWith({ LOGIN_MAX_ATTEMPTS_PER_IP: '3', LOGIN_MAX_ATTEMPTS_PER_ACCOUNT: '100' });

    const first = await attemptLogin(app, 'sub@example.com', PASSWORD);
    const second = await attemptLogin(app, 'a@example.com', 'wrong password');
    const third = await attemptLogin(app, 'b@example.com', 'wrong password');
    const fourth = await attemptLogin(app, 'other@example.com', PASSWORD);

    expect(first.status).toBe(303);
    expect(second.status).toBe(401);
    expect(third.status).toBe(401);
    expect(fourth.status).toBe(429);
    expect(fourth.text).toContain('Too many login attempts.');
    expect(fourth.headers['retry-after']).toMatch(/^\d+$/);
  });

  it('form without email counts', async () => {
    const app = await appWith({ LOGIN_MAX_ATTEMPTS_PER_IP: '1' });
    const agent = request.agent(app.app);
    const page = await agent.get('/login').expect(200);

    const empty = await agent.post('/login').type('form').send({ _csrf: csrfTokenFrom(page.text) });
    const next = await attemptLogin(app, 'sub@example.com', PASSWORD);

    expect(empty.status).toBe(401);
    expect(next.status).toBe(429);
  });

  it('GET /login is not limited', async () => {
    const app = await appWith({ LOGIN_MAX_ATTEMPTS_PER_IP: '1' });
    await attemptLogin(app, 'sub@example.com', 'wrong password');

    const page = await request(app.app).get('/login');

    expect(page.status).toBe(200);
  });
});

describe('login rate limit store', () => {
  it('store is pluggable', async () => {
    const app = await appWith({});
    const createStore = vi.fn(() => new MemoryStore());

    const limiters = loginRateLimits(app.context, { createStore });

    expect(limiters).toHaveLength(2);
    expect(createStore.mock.calls).toEqual([['ip'], ['account']]);
  });
});
