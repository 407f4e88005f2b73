import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';

import { ConfigError, loadConfig } from '../../src/config.js';
import { createTestApp, sessionCookieOf, type TestApp } from '../helpers/test-app.js';

/*
 * The CSP must name exactly the storage origin that browsers fetch media from, and none in local or proxy
 * delivery. No request reaches the S3 endpoints below: building the app and rendering the login page do not
 * contact storage.
 */

const S3_ENV = { STORAGE: 's3', S3_BUCKET: 'videos', S3_REGION: 'us-east-1', S3_ENDPOINT: 'http://127.0.0.1:9', S3_FORCE_PATH_STYLE: 'true' };

let testApp: TestApp | undefined;

afterEach(async () => {
  await testApp?.close();
  testApp = undefined;
});

/** Fetches the login page and returns its CSP as a map from directive name to source list. */
async function cspOf(env: Record<string, string>): Promise<Map<string, string>> {
  testApp = await createTestApp(env);
  const response = await request(testApp.app).get('/login').expect(200);
  const header = String(response.headers['content-security-policy']);

  return new Map(
    header.split(';').map((directive) => {
      const [name = '', ...sources] = directive.trim().split(/\s+/);
      return [name, sources.join(' ')];
    }),
  );
}

describe('CSP storage origin', () => {
  it('local storage names none', async () => {
    const csp = await cspOf({});

    expect(csp.get('media-src')).toBe("'self' blob:");
    expect(csp.get('img-src')).toBe("'self' data:");
    expect(csp.get('connect-src')).toBe("'self'");
    expect(csp.get('default-src')).toBe("'self'");
  });

  // Media and posters come through the app, but admin uploads still PUT straight to the bucket.
  it('S3 proxy names it for uploads only', async () => {
    const csp = await cspOf({ ...S3_ENV, MEDIA_DELIVERY: 'proxy' });

    expect(csp.get('media-src')).toBe("'self' blob:");
    expect(csp.get('img-src')).toBe("'self' data:");
    expect(csp.get('connect-src')).toBe("'self' http://127.0.0.1:9");
  });

  it('S3 redirect names the endpoint', async () => {
    const csp = await cspOf(S3_ENV);

    expect(csp.get('media-src')).toBe("'self' http://127.0.0.1:9 blob:");
    expect(csp.get('img-src')).toBe("'self' http://127.0.0.1:9 data:");
    expect(csp.get('connect-src')).toBe("'self' http://127.0.0.1:9");
  });

  it('S3 redirect names the public endpoint only', async () => {
    const csp = await cspOf({ ...S3_ENV, S3_PUBLIC_ENDPOINT: 'https://media.example.com', S3_FORCE_PATH_STYLE: 'false' });

    expect(csp.get('media-src')).toBe("'self' https://videos.media.example.com blob:");
    expect(csp.get('img-src')).toBe("'self' https://videos.media.example.com data:");
    expect(csp.get('connect-src')).toBe("'self' https://videos.media.example.com");
  });

  it('other headers', async () => {
    testApp = await createTestApp({});
    const response = await request(testApp.app).get('/login').expect(200);

    expect(response.headers['referrer-policy']).toBe('same-origin');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['x-powered-by']).toBeUndefined();
    expect(String(response.headers['content-security-policy'])).toContain("frame-ancestors 'self'");
  });
});

describe('Secure session cookie', () => {
  it('is Secure behind a trusted TLS proxy', async () => {
    testApp = await createTestApp({ TRUST_PROXY: '1' });

    const response = await request(testApp.app).get('/login').set('X-Forwarded-Proto', 'https').expect(200);
    const cookie = [response.headers['set-cookie'] ?? []].flat().find((line) => line.startsWith('reelgate.sid='));

    expect(sessionCookieOf(response.headers['set-cookie'])).toBeDefined();
    expect(cookie).toMatch(/; Secure/);
    expect(cookie).toMatch(/; HttpOnly/);
  });

  it('ignores X-Forwarded-Proto without TRUST_PROXY', async () => {
    testApp = await createTestApp({});

    const response = await request(testApp.app).get('/login').set('X-Forwarded-Proto', 'https').expect(200);
    const cookie = [response.headers['set-cookie'] ?? []].flat().find((line) => line.startsWith('reelgate.sid='));

    expect(cookie).toBeDefined();
    expect(cookie).not.toMatch(/; Secure/);
  });
});

describe('production start-up checks', () => {
  const production = {
    NODE_ENV: 'production',
    SESSION_SECRET: 'a'.repeat(40),
    MEDIA_SIGNING_KEY: 'b'.repeat(40),
    PUBLIC_URL: 'https://videos.example.com',
    TRUST_PROXY: '1',
  };

  function problemsOf(env: Record<string, string>): string[] {
    try {
      loadConfig(env, '/srv/reelgate');
      return [];
    } catch (err) {
      if (err instanceof ConfigError) return err.problems;
      throw err;
    }
  }

  it('accepts https and TRUST_PROXY', () => {
    expect(problemsOf(production)).toEqual([]);
  });

  it('requires PUBLIC_URL', () => {
    const { PUBLIC_URL: _publicUrl, ...env } = production;

    expect(problemsOf(env)).toEqual([expect.stringMatching(/^PUBLIC_URL is missing: production needs the https:\/\/ origin/)]);
  });

  it('requires https PUBLIC_URL', () => {
    expect(problemsOf({ ...production, PUBLIC_URL: 'http://videos.example.com' })).toEqual([
      expect.stringMatching(/^PUBLIC_URL must start with https:\/\/ in production \(got "http:\/\/videos.example.com"\)/),
    ]);
  });

  it.each(['', 'false', '0'])('requires TRUST_PROXY, not %j', (trustProxy) => {
    expect(problemsOf({ ...production, TRUST_PROXY: trustProxy })).toEqual([expect.stringMatching(/^TRUST_PROXY is not set: .* Set TRUST_PROXY=1/)]);
  });

  it('development needs neither', () => {
    expect(problemsOf({ PUBLIC_URL: 'http://localhost:3000' })).toEqual([]);
  });
});
