import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { addDemoVideo, addUser, createTestApp, csrfTokenFrom, loginAgent, type TestApp } from '../helpers/test-app.js';

/*
 * Every route of the viewer side, for every persona. "expected" is the status; a redirect also names where
 * it goes. The media row uses a URL issued to the subscriber, so the other personas try a copied link.
 */

type Persona = 'anonymous' | 'no subscription' | 'subscriber' | 'ended subscription' | 'admin';
const personas: Persona[] = ['anonymous', 'no subscription', 'subscriber', 'ended subscription', 'admin'];

let testApp: TestApp;
let videoId: string;
let mediaUrl: string;
const agents = new Map<Persona, ReturnType<typeof request.agent>>();

beforeAll(async () => {
  testApp = await createTestApp();
  videoId = (await addDemoVideo(testApp)).id;
  await addUser(testApp, 'nosub@example.com');
  await addUser(testApp, 'sub@example.com', { subscription: { active: true } });
  await addUser(testApp, 'ended@example.com', { subscription: { active: true, endsAt: new Date(Date.now() - 60_000) } });
  await addUser(testApp, 'admin@example.com', { admin: true });

  agents.set('anonymous', request.agent(testApp.app));
  agents.set('no subscription', await loginAgent(testApp.app, 'nosub@example.com'));
  agents.set('subscriber', await loginAgent(testApp.app, 'sub@example.com'));
  agents.set('ended subscription', await loginAgent(testApp.app, 'ended@example.com'));
  agents.set('admin', await loginAgent(testApp.app, 'admin@example.com'));

  const grant = await agents.get('subscriber')!.get(`/api/videos/${videoId}/playback`).expect(200);
  mediaUrl = grant.body.url;
});

afterAll(() => testApp.close());

const expectations: Record<string, Record<Persona, number>> = {
  'GET /': { anonymous: 303, 'no subscription': 200, subscriber: 200, 'ended subscription': 200, admin: 200 },
  'GET /videos/:id': { anonymous: 303, 'no subscription': 403, subscriber: 200, 'ended subscription': 403, admin: 200 },
  'GET /videos/:id/poster': { anonymous: 303, 'no subscription': 200, subscriber: 200, 'ended subscription': 200, admin: 200 },
  'GET /api/videos/:id/playback': { anonymous: 401, 'no subscription': 403, subscriber: 200, 'ended subscription': 403, admin: 200 },
  // The media URL is bound to the subscriber: anyone else gets nothing, even an admin.
  'GET media URL': { anonymous: 401, 'no subscription': 403, subscriber: 200, 'ended subscription': 403, admin: 403 },
};

function pathOf(route: string): string {
  if (route === 'GET media URL') return mediaUrl;
  return route.replace('GET ', '').replace(':id', videoId);
}

describe('access matrix', () => {
  for (const [route, byPersona] of Object.entries(expectations)) {
    describe(route, () => {
      it.each(personas)('as %s', async (persona) => {
        const response = await agents.get(persona)!.get(pathOf(route));

        expect(response.status).toBe(byPersona[persona]);
        if (response.status === 303) {
          expect(response.headers.location).toMatch(/^\/login/);
        }
        if (route.includes('playback') || route.includes('media')) {
          expect(response.headers['cache-control']).toBe('no-store');
        }
      });
    });
  }

  it('unknown video id is 404 on every route', async () => {
    const agent = agents.get('subscriber')!;
    for (const path of ['/videos/AAAAAAAAAAAAAAAA', '/api/videos/AAAAAAAAAAAAAAAA/playback', '/videos/not-an-id/poster']) {
      const response = await agent.get(path);
      expect(response.status, path).toBe(404);
    }
  });

  it('refused watch page has no media URL', async () => {
    const response = await agents.get('no subscription')!.get(`/videos/${videoId}`).expect(403);

    expect(response.text).toContain('A subscription is needed');
    expect(response.text).not.toContain('/media/');
    expect(response.text).not.toContain('/playback');
    expect(response.text).not.toContain('<video');
  });

  it('refused grant says why as JSON', async () => {
    const response = await agents.get('ended subscription')!.get(`/api/videos/${videoId}/playback`).expect(403);

    expect(response.body).toEqual({
      error: { code: 'SUBSCRIPTION_ENDED', message: 'Your subscription has ended, so this video cannot be played.' },
    });
  });

  it('catalogue marks videos locked without a subscription', async () => {
    const locked = await agents.get('no subscription')!.get('/').expect(200);
    const open = await agents.get('subscriber')!.get('/').expect(200);

    expect(locked.text).toContain('Locked');
    expect(open.text).not.toContain('locked-badge');
  });

  it('grant has url, expiresAt and type', async () => {
    const response = await agents.get('subscriber')!.get(`/api/videos/${videoId}/playback`).expect(200);

    expect(Object.keys(response.body).sort()).toEqual(['expiresAt', 'type', 'url']);
    expect(response.body.type).toBe('video/mp4');
    expect(response.body.url).toMatch(new RegExp(`^/media/${videoId}\\?exp=\\d+&sig=[A-Za-z0-9_-]{43}$`));
    // The app's clock is the test clock, so the expiry is exact: whole seconds, 60 s (the default TTL) on.
    const nowSeconds = Math.floor(testApp.clock.now.getTime() / 1000);
    expect(response.body.expiresAt).toBe(new Date((nowSeconds + 60) * 1000).toISOString());
  });

  it('anonymous visitor goes to login and comes back', async () => {
    const target = `/videos/${videoId}`;
    const response = await request(testApp.app).get(target).expect(303);
    expect(response.headers.location).toBe(`/login?next=${encodeURIComponent(target)}`);

    const agent = request.agent(testApp.app);
    const page = await agent.get(String(response.headers.location)).expect(200);
    const login = await agent
      .post('/login')
      .type('form')
      .send({ _csrf: csrfTokenFrom(page.text), email: 'sub@example.com', password: 'correct horse battery staple', next: target })
      .expect(303);
    expect(login.headers.location).toBe(target);
  });
});
