import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { PASSWORD, addDemoVideo, addUser, createTestApp, csrfTokenFrom, loginAgent, sessionCookieOf, type TestApp } from '../helpers/test-app.js';

let testApp: TestApp;

beforeEach(async () => {
  testApp = await createTestApp();
  await addUser(testApp, 'viewer@example.com', { subscription: { active: true } });
});

afterEach(() => testApp.close());

async function loginPage(agent: ReturnType<typeof request.agent>) {
  const page = await agent.get('/login').expect(200);
  return { token: csrfTokenFrom(page.text), cookie: sessionCookieOf(page.headers['set-cookie']) };
}

describe('POST /login', () => {
  it('redirects with a session cookie on success', async () => {
    const agent = request.agent(testApp.app);
    const { token } = await loginPage(agent);

    const response = await agent.post('/login').type('form').send({ _csrf: token, email: 'viewer@example.com', password: PASSWORD }).expect(303);

    expect(response.headers.location).toBe('/');
    const setCookie = String(response.headers['set-cookie']);
    expect(setCookie).toContain('reelgate.sid=');
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Lax');
    await agent.get('/').expect(200);
  });

  it('changes the session id at login', async () => {
    const agent = request.agent(testApp.app);
    const { token, cookie: before } = await loginPage(agent);

    const response = await agent.post('/login').type('form').send({ _csrf: token, email: 'viewer@example.com', password: PASSWORD }).expect(303);

    const after = sessionCookieOf(response.headers['set-cookie']);
    expect(before).toBeDefined();
    expect(after).toBeDefined();
    expect(after).not.toBe(before);
  });

  it('old session id is dead after login', async () => {
    const agent = request.agent(testApp.app);
    const { token, cookie: before } = await loginPage(agent);
    await agent.post('/login').type('form').send({ _csrf: token, email: 'viewer@example.com', password: PASSWORD }).expect(303);

    // An attacker who planted the pre-login cookie gains nothing.
    await request(testApp.app).get('/').set('Cookie', `reelgate.sid=${before}`).expect(303);
  });

  it('accepts the email in any case', async () => {
    const agent = request.agent(testApp.app);
    const { token } = await loginPage(agent);
    await agent.post('/login').type('form').send({ _csrf: token, email: '  Viewer@Example.COM ', password: PASSWORD }).expect(303);
  });

  it.each([
    ['wrong password', { email: 'viewer@example.com', password: 'not the password' }],
    ['unknown email', { email: 'nobody@example.com', password: PASSWORD }],
  ])('answers 401 with one message for %s', async (_case, fields) => {
    const agent = request.agent(testApp.app);
    const { token } = await loginPage(agent);

    const response = await agent.post('/login').type('form').send({ _csrf: token, ...fields }).expect(401);

    expect(response.text).toContain('Wrong email or password.');
    await agent.get('/').expect(303);
  });

  it('answers 401 when a field is missing', async () => {
    const agent = request.agent(testApp.app);
    const { token } = await loginPage(agent);

    const response = await agent.post('/login').type('form').send({ _csrf: token, email: 'viewer@example.com' }).expect(401);

    expect(response.text).toContain('Enter your email and password.');
  });

  it('rejects a login without CSRF token', async () => {
    const agent = request.agent(testApp.app);
    await loginPage(agent);

    const response = await agent.post('/login').type('form').send({ email: 'viewer@example.com', password: PASSWORD }).expect(403);

    expect(response.text).toContain('This form has expired');
    await agent.get('/').expect(303);
  });

  it.each([
    ['/videos/abc', '/videos/abc'],
    ['https://evil.example/', '/'],
    ['//evil.example/', '/'],
    ['/\\evil.example', '/'],
    ['javascript:alert(1)', '/'],
    ['/login', '/'],
  ])('after login goes to next=%s as %s', async (next, expected) => {
    const agent = request.agent(testApp.app);
    const { token } = await loginPage(agent);

    const response = await agent.post('/login').type('form').send({ _csrf: token, email: 'viewer@example.com', password: PASSWORD, next }).expect(303);

    expect(response.headers.location).toBe(expected);
  });

  it('records the last login time', async () => {
    await loginAgent(testApp.app, 'viewer@example.com');

    const row = await testApp.context.db.selectFrom('users').select('last_login_at').where('email', '=', 'viewer@example.com').executeTakeFirstOrThrow();
    expect(row.last_login_at).not.toBeNull();
  });
});

describe('POST /logout', () => {
  it('ends the session', async () => {
    const agent = await loginAgent(testApp.app, 'viewer@example.com');
    const page = await agent.get('/').expect(200);

    const response = await agent.post('/logout').type('form').send({ _csrf: csrfTokenFrom(page.text) }).expect(303);

    expect(response.headers.location).toBe('/login');
    await agent.get('/').expect(303);
    const rows = await testApp.context.db.selectFrom('sessions').select('sid').execute();
    expect(rows).toHaveLength(0);
  });

  it('rejects a logout without CSRF token', async () => {
    const agent = await loginAgent(testApp.app, 'viewer@example.com');

    await agent.post('/logout').type('form').send({}).expect(403);

    await agent.get('/').expect(200);
  });
});

describe('sessions', () => {
  it('survive a restart on the same DATA_DIR', async () => {
    const agent = await loginAgent(testApp.app, 'viewer@example.com');
    const video = await addDemoVideo(testApp);
    const cookie = sessionCookieOf((await agent.get('/').expect(200)).headers['set-cookie']);
    await testApp.close();

    testApp = await createTestApp({}, testApp.dataDir);

    const response = await request(testApp.app).get(`/api/videos/${video.id}/playback`).set('Cookie', `reelgate.sid=${cookie}`);
    expect(response.status).toBe(200);
  });

  it('are stored in the database, not in memory', async () => {
    await loginAgent(testApp.app, 'viewer@example.com');

    const rows = await testApp.context.db.selectFrom('sessions').select(['user_id', 'expires_at']).execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]?.user_id).not.toBeNull();
  });

  it('cookie is Secure behind a TLS proxy with TRUST_PROXY', async () => {
    await testApp.close();
    testApp = await createTestApp({ TRUST_PROXY: '1' });
    await addUser(testApp, 'viewer@example.com');
    // The cookie is sent by hand: supertest's cookie jar keeps Secure cookies away from plain HTTP.
    const page = await request(testApp.app).get('/login').set('X-Forwarded-Proto', 'https').expect(200);
    expect(String(page.headers['set-cookie'])).toContain('Secure');

    const response = await request(testApp.app)
      .post('/login')
      .set('X-Forwarded-Proto', 'https')
      .set('Cookie', `reelgate.sid=${sessionCookieOf(page.headers['set-cookie'])}`)
      .type('form')
      .send({ _csrf: csrfTokenFrom(page.text), email: 'viewer@example.com', password: PASSWORD })
      .expect(303);

    expect(String(response.headers['set-cookie'])).toContain('Secure');
  });

  it('cookie is not Secure over plain HTTP', async () => {
    const agent = request.agent(testApp.app);
    const { token } = await loginPage(agent);

    const response = await agent.post('/login').type('form').send({ _csrf: token, email: 'viewer@example.com', password: PASSWORD }).expect(303);

    expect(String(response.headers['set-cookie'])).not.toContain('Secure');
  });
});
