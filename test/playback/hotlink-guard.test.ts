import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ConfigError, loadConfig } from '../../src/config.js';
import { addDemoVideo, addUser, createTestApp, loginAgent, type TestApp } from '../helpers/test-app.js';

/*
 * The hotlink guard in front of the grant and media routes, with local storage (app-served media). Supertest
 * listens on a new random port for each request, so tests that compare with the site's own origin set the
 * Host header themselves.
 */

const EMBED_ORIGIN = 'https://partner.example.org';
const SITE_HOST = 'videos.test:8080';
const SITE_ORIGIN = `http://${SITE_HOST}`;

let testApp: TestApp;
let agent: Awaited<ReturnType<typeof loginAgent>>;
let videoId: string;
let mediaUrl: string;

beforeAll(async () => {
  testApp = await createTestApp({ ALLOWED_EMBED_ORIGINS: ` ${EMBED_ORIGIN} , https://other.example:8443` });
  videoId = (await addDemoVideo(testApp)).id;
  await addUser(testApp, 'sub@example.com', { subscription: { active: true } });
  agent = await loginAgent(testApp.app, 'sub@example.com');

  const grant = await agent.get(`/api/videos/${videoId}/playback`).expect(200);
  mediaUrl = grant.body.url;
});

afterAll(() => testApp.close());

const grantPath = () => `/api/videos/${videoId}/playback`;

describe('hotlink guard, Fetch Metadata', () => {
  it.each([
    ['same-origin', 200],
    ['none', 200],
    ['cross-site', 403],
    ['same-site', 403],
    ['something-else', 403],
  ])('media with Sec-Fetch-Site %s', async (fetchSite, status) => {
    const response = await agent.get(mediaUrl).set('Sec-Fetch-Site', fetchSite).set('Sec-Fetch-Dest', 'video').set('Range', 'bytes=0-9');

    expect(response.status).toBe(status === 200 ? 206 : status);
    if (status === 403) {
      expect(response.body).toEqual({ error: { code: 'HOTLINK_REFUSED', message: 'This video can only be played on this site. Open it from the site itself.' } });
      expect(response.headers['cache-control']).toBe('no-store');
    }
  });

  it.each([
    ['same-origin', 200],
    ['none', 200],
    ['cross-site', 403],
    ['same-site', 403],
  ])('grant with Sec-Fetch-Site %s', async (fetchSite, status) => {
    const response = await agent.get(grantPath()).set('Sec-Fetch-Site', fetchSite);

    expect(response.status).toBe(status);
    expect(response.headers['cache-control']).toBe('no-store');
  });

  it('cross-site from allowed origin', async () => {
    const response = await agent.get(mediaUrl).set('Sec-Fetch-Site', 'cross-site').set('Origin', EMBED_ORIGIN).set('Range', 'bytes=0-9');

    expect(response.status).toBe(206);
  });

  it('same-site from allowed Referer', async () => {
    const response = await agent.get(grantPath()).set('Sec-Fetch-Site', 'same-site').set('Referer', `${EMBED_ORIGIN}/films/1?x=y`);

    expect(response.status).toBe(200);
  });

  it('cross-site from other origin', async () => {
    const response = await agent.get(mediaUrl).set('Sec-Fetch-Site', 'cross-site').set('Origin', 'https://evil.example');

    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe('HOTLINK_REFUSED');
  });

  it('HEAD is guarded too', async () => {
    const response = await agent.head(mediaUrl).set('Sec-Fetch-Site', 'cross-site');

    expect(response.status).toBe(403);
  });
});

describe('hotlink guard, Origin and Referer', () => {
  it('own Origin passes', async () => {
    const response = await agent.get(grantPath()).set('Host', SITE_HOST).set('Origin', SITE_ORIGIN);

    expect(response.status).toBe(200);
  });

  it('own Referer passes', async () => {
    const response = await agent.get(mediaUrl).set('Host', SITE_HOST).set('Referer', `${SITE_ORIGIN}/videos/${videoId}`).set('Range', 'bytes=0-0');

    expect(response.status).toBe(206);
  });

  it('foreign Origin is refused', async () => {
    const response = await agent.get(grantPath()).set('Host', SITE_HOST).set('Origin', 'https://evil.example');

    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe('HOTLINK_REFUSED');
  });

  it('foreign Referer is refused', async () => {
    const response = await agent.get(mediaUrl).set('Referer', 'https://evil.example/page');

    expect(response.status).toBe(403);
  });

  it('other scheme of own host is refused', async () => {
    const response = await agent.get(grantPath()).set('Host', SITE_HOST).set('Origin', `https://${SITE_HOST}`);

    expect(response.status).toBe(403);
  });

  it('Origin wins over Referer', async () => {
    const response = await agent.get(grantPath()).set('Host', SITE_HOST).set('Origin', 'https://evil.example').set('Referer', `${SITE_ORIGIN}/`);

    expect(response.status).toBe(403);
  });

  it.each(['null', 'not a url', 'ftp://files.example'])('opaque Origin %s is refused', async (origin) => {
    const response = await agent.get(grantPath()).set('Origin', origin);

    expect(response.status).toBe(403);
  });

  it('allowed origin passes', async () => {
    const response = await agent.get(grantPath()).set('Origin', 'https://other.example:8443');

    expect(response.status).toBe(200);
  });

  it('no headers: session decides', async () => {
    const response = await agent.get(mediaUrl).set('Range', 'bytes=0-0');

    expect(response.status).toBe(206);
  });
});

describe('hotlink guard and session', () => {
  it('allowed origin without session is 401', async () => {
    const response = await request(testApp.app).get(mediaUrl).set('Sec-Fetch-Site', 'cross-site').set('Origin', EMBED_ORIGIN);

    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe('NOT_LOGGED_IN');
  });

  it('same-origin without session is 401', async () => {
    const response = await request(testApp.app).get(grantPath()).set('Sec-Fetch-Site', 'same-origin');

    expect(response.status).toBe(401);
  });

  it('refusal comes before session check', async () => {
    const response = await request(testApp.app).get(grantPath()).set('Sec-Fetch-Site', 'cross-site');

    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe('HOTLINK_REFUSED');
  });

  it('other routes are not guarded', async () => {
    const response = await agent.get('/').set('Sec-Fetch-Site', 'cross-site');

    expect(response.status).toBe(200);
  });
});

describe('hotlink guard behind a proxy', () => {
  it('trusted X-Forwarded-Proto sets own origin', async () => {
    const proxied = await createTestApp({ TRUST_PROXY: '1' });
    try {
      const video = await addDemoVideo(proxied);
      await addUser(proxied, 'sub@example.com', { subscription: { active: true } });
      const proxiedAgent = await loginAgent(proxied.app, 'sub@example.com');

      const viaTls = await proxiedAgent
        .get(`/api/videos/${video.id}/playback`)
        .set('Host', 'videos.example.com')
        .set('X-Forwarded-Proto', 'https')
        .set('Origin', 'https://videos.example.com');
      const plain = await proxiedAgent
        .get(`/api/videos/${video.id}/playback`)
        .set('Host', 'videos.example.com')
        .set('Origin', 'https://videos.example.com');

      expect(viaTls.status).toBe(200);
      expect(plain.status).toBe(403);
    } finally {
      await proxied.close();
    }
  });
});

describe('ALLOWED_EMBED_ORIGINS', () => {
  function problemsOf(value: string): string[] {
    try {
      loadConfig({ ALLOWED_EMBED_ORIGINS: value }, '/srv/reelgate');
      return [];
    } catch (err) {
      if (err instanceof ConfigError) return err.problems;
      throw err;
    }
  }

  it('normalises origins', () => {
    const config = loadConfig({ ALLOWED_EMBED_ORIGINS: 'HTTPS://Partner.Example.org:443, http://127.0.0.1:8080' }, '/srv/reelgate');

    expect(config.allowedEmbedOrigins).toEqual(['https://partner.example.org', 'http://127.0.0.1:8080']);
  });

  it('empty means none', () => {
    expect(loadConfig({ ALLOWED_EMBED_ORIGINS: ' ' }, '/srv/reelgate').allowedEmbedOrigins).toEqual([]);
  });

  it.each([
    ['https://partner.example.org/', 'https://partner.example.org/'],
    ['https://partner.example.org/embed', 'https://partner.example.org/embed'],
    ['https://ok.example, partner.example.org', 'partner.example.org'],
    ['ftp://partner.example.org', 'ftp://partner.example.org'],
    ['https://partner.example.org?x=1', 'https://partner.example.org?x=1'],
    ['https://ok.example,,https://b.example', ''],
  ])('rejects %j', (value, item) => {
    expect(problemsOf(value)).toEqual([
      `ALLOWED_EMBED_ORIGINS contains "${item}", which is not an origin: list origins such as https://partner.example.com, ` +
        `with no path or trailing slash, separated by commas (got "${value}")`,
    ]);
  });
});
