import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { addDemoVideo, addUser, createTestApp, csrfTokenFrom, loginAgent, type TestApp } from '../helpers/test-app.js';

/*
 * Every admin route for three personas. GET routes: an anonymous visitor is sent to the login page, a
 * logged-in non-admin gets 403, an admin gets the page (or the redirect named). State-changing routes are
 * sent with a valid CSRF token, so the refusal comes from the role check and not from the CSRF check.
 */

type Persona = 'anonymous' | 'viewer' | 'admin';

let testApp: TestApp;
let userId: string;
let videoId: string;
const agents = new Map<Persona, ReturnType<typeof request.agent>>();
const tokens = new Map<Persona, string>();

beforeAll(async () => {
  testApp = await createTestApp();
  videoId = (await addDemoVideo(testApp)).id;
  userId = (await addUser(testApp, 'viewer@example.com', { subscription: { active: true } })).id;
  await addUser(testApp, 'admin@example.com', { admin: true });

  const anonymous = request.agent(testApp.app);
  agents.set('anonymous', anonymous);
  agents.set('viewer', await loginAgent(testApp.app, 'viewer@example.com'));
  agents.set('admin', await loginAgent(testApp.app, 'admin@example.com'));

  // The login page gives an anonymous visitor a session with a CSRF token.
  tokens.set('anonymous', csrfTokenFrom((await anonymous.get('/login').expect(200)).text));
  tokens.set('viewer', csrfTokenFrom((await agents.get('viewer')!.get('/').expect(200)).text));
  tokens.set('admin', csrfTokenFrom((await agents.get('admin')!.get('/').expect(200)).text));
});

afterAll(() => testApp.close());

const pages: [string, number, string?][] = [
  ['/admin', 303, '/admin/users'],
  ['/admin/users', 200],
  ['/admin/users?q=example', 200],
  ['/admin/users/new', 200],
  ['/admin/users/:user', 200],
  ['/admin/users/:user/delete', 200],
  ['/admin/videos', 200],
  ['/admin/videos/upload', 200],
  ['/admin/videos/import', 200],
  ['/admin/videos/:video', 200],
  ['/admin/videos/:video/delete', 200],
  ['/admin/audit', 200],
];

const changes: [method: 'post' | 'delete', path: string][] = [
  ['post', '/admin/users'],
  ['post', '/admin/users/:user/subscription/grant'],
  ['post', '/admin/users/:user/subscription/revoke'],
  ['post', '/admin/users/:user/password'],
  ['post', '/admin/users/:user/role'],
  ['post', '/admin/users/:user/delete'],
  ['post', '/admin/videos/:video'],
  ['post', '/api/admin/videos/:video/poster'],
  ['post', '/admin/videos/:video/publish'],
  ['post', '/admin/videos/:video/delete'],
  ['post', '/admin/videos/import'],
  ['post', '/api/admin/uploads/stream'],
  ['post', '/api/admin/uploads'],
  ['post', '/api/admin/uploads/AAAAAAAAAAAAAAAA/part-urls'],
  ['post', '/api/admin/uploads/AAAAAAAAAAAAAAAA/complete'],
  ['delete', '/api/admin/uploads/AAAAAAAAAAAAAAAA'],
];

function pathOf(template: string): string {
  return template.replace(':user', userId).replace(':video', videoId);
}

describe('admin pages', () => {
  for (const [template, adminStatus, adminLocation] of pages) {
    describe(`GET ${template}`, () => {
      it('anonymous goes to login', async () => {
        const response = await agents.get('anonymous')!.get(pathOf(template));

        expect(response.status).toBe(303);
        expect(response.headers.location).toBe(`/login?next=${encodeURIComponent(pathOf(template))}`);
      });

      it('viewer gets 403', async () => {
        const response = await agents.get('viewer')!.get(pathOf(template));

        expect(response.status).toBe(403);
        expect(response.text).toContain('This page is for administrators only.');
      });

      it('admin gets the page', async () => {
        const response = await agents.get('admin')!.get(pathOf(template));

        expect(response.status).toBe(adminStatus);
        if (adminLocation) expect(response.headers.location).toBe(adminLocation);
      });
    });
  }
});

describe('admin changes', () => {
  for (const [method, template] of changes) {
    describe(`${method.toUpperCase()} ${template}`, () => {
      it('anonymous gets 401', async () => {
        const response = await agents.get('anonymous')![method](pathOf(template)).set('x-csrf-token', tokens.get('anonymous')!);

        expect(response.status).toBe(401);
      });

      it('viewer gets 403', async () => {
        const response = await agents.get('viewer')![method](pathOf(template)).set('x-csrf-token', tokens.get('viewer')!);

        expect(response.status).toBe(403);
      });
    });
  }

  it('viewer still has the subscription', async () => {
    const response = await agents.get('viewer')!.get(`/api/videos/${videoId}/playback`);

    expect(response.status).toBe(200);
  });
});

describe('admin link', () => {
  it('shows for admins', async () => {
    const response = await agents.get('admin')!.get('/');

    expect(response.status).toBe(200);
    expect(response.text).toContain('<a href="/admin">Admin</a>');
  });

  it('hides from viewers', async () => {
    const response = await agents.get('viewer')!.get('/');

    expect(response.status).toBe(200);
    expect(response.text).not.toContain('href="/admin"');
  });
});
