import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { findSubscription } from '../../src/subscriptions/subscription-repository.js';
import { findVideo } from '../../src/videos/video-repository.js';
import { addDemoVideo, addUser, createTestApp, loginAgent, type TestApp } from '../helpers/test-app.js';
import { csrfTokenOf } from './admin-helpers.js';

let testApp: TestApp;
let admin: ReturnType<typeof request.agent>;
let viewerId: string;
let videoId: string;

beforeAll(async () => {
  testApp = await createTestApp();
  videoId = (await addDemoVideo(testApp)).id;
  viewerId = (await addUser(testApp, 'viewer@example.com', { subscription: { active: true } })).id;
  await addUser(testApp, 'admin@example.com', { admin: true });
  admin = await loginAgent(testApp.app, 'admin@example.com');
  // A real token exists in the session, so a wrong one is compared against something.
  await csrfTokenOf(admin);
});

afterAll(() => testApp.close());

const attempts: [string, Record<string, string>][] = [
  ['without a token', {}],
  ['with a wrong token', { _csrf: 'not-the-token' }],
];

describe('CSRF on admin changes', () => {
  for (const [name, token] of attempts) {
    describe(name, () => {
      it('revoke is 403 and changes nothing', async () => {
        const response = await admin.post(`/admin/users/${viewerId}/subscription/revoke`).type('form').send(token);

        expect(response.status).toBe(403);
        expect(response.text).toContain('This form has expired or was not sent from this site.');
        expect((await findSubscription(testApp.context.db, viewerId))?.active).toBe(true);
      });

      it('unpublish is 403 and changes nothing', async () => {
        const response = await admin.post(`/admin/videos/${videoId}/publish`).type('form').send({ ...token, published: 'false' });

        expect(response.status).toBe(403);
        expect((await findVideo(testApp.context.db, videoId))?.published).toBe(true);
      });

      it('delete video is 403 and keeps it', async () => {
        const response = await admin.post(`/admin/videos/${videoId}/delete`).type('form').send(token);

        expect(response.status).toBe(403);
        expect(await findVideo(testApp.context.db, videoId)).toBeDefined();
      });

      it('upload start is 403', async () => {
        const header = token._csrf ? { 'x-csrf-token': token._csrf } : {};
        const response = await admin
          .post('/api/admin/uploads')
          .set(header)
          .send({ title: 'x', fileName: 'x.mp4', size: 10, contentType: 'video/mp4' });

        expect(response.status).toBe(403);
        const pending = await testApp.context.db.selectFrom('pending_uploads').selectAll().execute();
        expect(pending).toEqual([]);
      });
    });
  }

  it('nothing reached the audit log', async () => {
    const entries = await testApp.context.db.selectFrom('audit_log').selectAll().execute();

    expect(entries).toEqual([]);
  });
});
