import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { addDemoVideo, addUser, createTestApp, loginAgent, type TestApp } from '../helpers/test-app.js';
import { postForm } from './admin-helpers.js';

const MARKUP_TITLE = '<img src=x onerror=alert(1)><b>Bold</b> & "quoted"';
const ESCAPED_TITLE = '&lt;img src=x onerror=alert(1)&gt;&lt;b&gt;Bold&lt;/b&gt; &amp; &#34;quoted&#34;';

let testApp: TestApp;
let admin: ReturnType<typeof request.agent>;
let subscriber: ReturnType<typeof request.agent>;
let videoId: string;

beforeAll(async () => {
  testApp = await createTestApp();
  videoId = (await addDemoVideo(testApp)).id;
  await addUser(testApp, 'admin@example.com', { admin: true });
  await addUser(testApp, 'sub@example.com', { subscription: { active: true } });
  admin = await loginAgent(testApp.app, 'admin@example.com');
  subscriber = await loginAgent(testApp.app, 'sub@example.com');

  const saved = await postForm(admin, `/admin/videos/${videoId}`, { title: MARKUP_TITLE, description: '<script>alert(2)</script>' });
  if (saved.status !== 303) throw new Error(`saving the title returned ${saved.status}, expected 303`);
});

afterAll(() => testApp.close());

describe('title with HTML markup', () => {
  const pages: [string, () => ReturnType<typeof request.agent>, () => string][] = [
    ['catalogue', () => subscriber, () => '/'],
    ['watch page', () => subscriber, () => `/videos/${videoId}`],
    ['admin list', () => admin, () => '/admin/videos'],
    ['admin edit page', () => admin, () => `/admin/videos/${videoId}`],
    ['audit log', () => admin, () => '/admin/audit'],
  ];

  for (const [name, agentOf, pathOf] of pages) {
    it(`renders as text on the ${name}`, async () => {
      const response = await agentOf().get(pathOf());

      expect(response.status).toBe(200);
      expect(response.text).toContain(ESCAPED_TITLE.slice(0, 40));
      expect(response.text).not.toContain('<img src=x');
      expect(response.text).not.toContain('<b>Bold</b>');
    });
  }

  it('description renders as text', async () => {
    const response = await subscriber.get(`/videos/${videoId}`);

    expect(response.status).toBe(200);
    expect(response.text).toContain('&lt;script&gt;alert(2)&lt;/script&gt;');
  });

  it('email with markup renders as text', async () => {
    const created = await postForm(admin, '/admin/users', { email: '"<i>x</i>"@example.com', password: 'a long enough password' });
    expect(created.status).toBe(303);

    const response = await admin.get('/admin/users');

    expect(response.status).toBe(200);
    expect(response.text).toContain('&#34;&lt;i&gt;x&lt;/i&gt;&#34;@example.com');
    expect(response.text).not.toContain('<i>x</i>');
  });
});
