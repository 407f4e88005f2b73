import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { verifyPassword } from '../../src/auth/passwords.js';
import { findSubscription } from '../../src/subscriptions/subscription-repository.js';
import { findUserByEmail, findUserById, setAdminRole } from '../../src/users/user-repository.js';
import { PASSWORD, addDemoVideo, addUser, createTestApp, loginAgent, type TestApp } from '../helpers/test-app.js';
import { flashAfter, postForm } from './admin-helpers.js';

let testApp: TestApp;
let admin: ReturnType<typeof request.agent>;
let adminId: string;
let videoId: string;
let counter = 0;

beforeAll(async () => {
  testApp = await createTestApp();
  videoId = (await addDemoVideo(testApp)).id;
  adminId = (await addUser(testApp, 'admin@example.com', { admin: true })).id;
  admin = await loginAgent(testApp.app, 'admin@example.com');
});

afterAll(() => testApp.close());

let viewerEmail: string;
let viewerId: string;

beforeEach(async () => {
  counter += 1;
  viewerEmail = `viewer${counter}@example.com`;
  viewerId = (await addUser(testApp, viewerEmail, { subscription: { active: true } })).id;
});

async function auditRows(targetId: string) {
  return testApp.context.db.selectFrom('audit_log').selectAll().where('target_id', '=', targetId).orderBy('id').execute();
}

describe('POST /admin/users/:id/subscription', () => {
  it('revoke denies the next grant', async () => {
    const viewer = await loginAgent(testApp.app, viewerEmail);
    await viewer.get(`/api/videos/${videoId}/playback`).expect(200);

    const response = await postForm(admin, `/admin/users/${viewerId}/subscription/revoke`);

    expect(response.status).toBe(303);
    expect(response.headers.location).toBe('/admin/users');
    const denied = await viewer.get(`/api/videos/${videoId}/playback`);
    expect(denied.status).toBe(403);
    expect(denied.body.error.code).toBe('SUBSCRIPTION_INACTIVE');
  });

  it('grant allows the next grant again', async () => {
    const viewer = await loginAgent(testApp.app, viewerEmail);
    expect((await postForm(admin, `/admin/users/${viewerId}/subscription/revoke`)).status).toBe(303);
    await viewer.get(`/api/videos/${videoId}/playback`).expect(403);

    const response = await postForm(admin, `/admin/users/${viewerId}/subscription/grant`, { endsOn: '' });

    expect(response.status).toBe(303);
    const allowed = await viewer.get(`/api/videos/${videoId}/playback`);
    expect(allowed.status).toBe(200);
  });

  it('grant with a past last day ends access', async () => {
    const viewer = await loginAgent(testApp.app, viewerEmail);

    const response = await postForm(admin, `/admin/users/${viewerId}/subscription/grant`, { endsOn: '2020-01-31' });

    expect(response.status).toBe(303);
    const subscription = await findSubscription(testApp.context.db, viewerId);
    expect(subscription?.endsAt?.toISOString()).toBe('2020-02-01T00:00:00.000Z');
    const denied = await viewer.get(`/api/videos/${videoId}/playback`);
    expect(denied.status).toBe(403);
    expect(denied.body.error.code).toBe('SUBSCRIPTION_ENDED');
  });

  it('grant flash names the last day', async () => {
    const response = await postForm(admin, `/admin/users/${viewerId}/subscription/grant`, {
      endsOn: '2030-06-30',
      returnTo: `/admin/users/${viewerId}`,
    });

    expect(response.status).toBe(303);
    expect(response.headers.location).toBe(`/admin/users/${viewerId}`);
    expect(await flashAfter(admin, response.headers.location!)).toBe(
      `Granted a subscription to ${viewerEmail} until the end of 2030-06-30 (UTC).`,
    );
  });

  it('flash shows once', async () => {
    const response = await postForm(admin, `/admin/users/${viewerId}/subscription/grant`, { endsOn: '' });
    await flashAfter(admin, response.headers.location!);

    expect(await flashAfter(admin, '/admin/users')).toBeUndefined();
  });

  it('invalid date is 400 and changes nothing', async () => {
    const response = await postForm(admin, `/admin/users/${viewerId}/subscription/grant`, { endsOn: '2030-02-30' });

    expect(response.status).toBe(400);
    expect(response.text).toContain('The end date &#34;2030-02-30&#34; is invalid');
    expect((await findSubscription(testApp.context.db, viewerId))?.endsAt).toBeNull();
  });

  it('offsite returnTo falls back to the list', async () => {
    const response = await postForm(admin, `/admin/users/${viewerId}/subscription/grant`, { returnTo: 'https://evil.example/' });

    expect(response.status).toBe(303);
    expect(response.headers.location).toBe('/admin/users');
  });

  it('audit records before and after', async () => {
    expect((await postForm(admin, `/admin/users/${viewerId}/subscription/revoke`)).status).toBe(303);

    const [entry] = await auditRows(viewerId);
    expect(entry?.action).toBe('subscription.set');
    expect(entry?.actor_email).toBe('admin@example.com');
    expect(entry?.actor_id).toBe(adminId);
    expect(entry?.target_label).toBe(viewerEmail);
    expect(JSON.parse(entry!.before_json!)).toEqual({ active: true, endsAt: null });
    expect(JSON.parse(entry!.after_json!)).toEqual({ active: false, endsAt: null });
  });
});

describe('POST /admin/users', () => {
  it('creates a user with a typed password', async () => {
    const response = await postForm(admin, '/admin/users', { email: ' New.Person@Example.com ', password: 'a long enough password' });

    expect(response.status).toBe(303);
    const created = await findUserByEmail(testApp.context.db, 'new.person@example.com');
    expect(created).toBeDefined();
    expect(created!.isAdmin).toBe(false);
    expect(response.headers.location).toBe(`/admin/users/${created!.id}`);
    expect(await verifyPassword('a long enough password', created!.passwordHash)).toBe(true);
    const [entry] = await auditRows(created!.id);
    expect(entry?.action).toBe('user.create');
    expect(JSON.parse(entry!.after_json!)).toEqual({ email: 'new.person@example.com', isAdmin: false });
  });

  it('shows a generated password once', async () => {
    const response = await postForm(admin, '/admin/users', { email: 'generated@example.com', admin: 'on' });

    expect(response.status).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    const password = /<code class="one-time-password">([^<]+)<\/code>/.exec(response.text)?.[1];
    expect(password).toMatch(/^[A-Za-z0-9_-]{20}$/);
    const created = await findUserByEmail(testApp.context.db, 'generated@example.com');
    expect(created!.isAdmin).toBe(true);
    expect(await verifyPassword(password!, created!.passwordHash)).toBe(true);
    expect(JSON.stringify(await auditRows(created!.id))).not.toContain(password!);
    // Later tests need admin@example.com to be the only admin.
    await setAdminRole(testApp.context.db, created!.id, false);
  });

  it('duplicate email re-renders the form', async () => {
    const response = await postForm(admin, '/admin/users', { email: viewerEmail.toUpperCase(), password: 'a long enough password' });

    expect(response.status).toBe(422);
    expect(response.text).toContain(`A user with the email ${viewerEmail} already exists.`);
    expect(response.text).toContain(`value="${viewerEmail.toUpperCase()}"`);
  });

  it('weak password re-renders the form', async () => {
    const response = await postForm(admin, '/admin/users', { email: 'weak@example.com', password: 'short' });

    expect(response.status).toBe(422);
    expect(response.text).toContain('Password is too short: use at least 10 characters.');
    expect(response.text).toContain('value="weak@example.com"');
    expect(await findUserByEmail(testApp.context.db, 'weak@example.com')).toBeUndefined();
  });

  it('invalid email re-renders the form', async () => {
    const response = await postForm(admin, '/admin/users', { email: 'not-an-email', password: 'a long enough password' });

    expect(response.status).toBe(422);
    expect(response.text).toContain('The email address is invalid: use the form name@example.com.');
  });
});

describe('POST /admin/users/:id/password', () => {
  it('sets the password and ends sessions', async () => {
    const viewer = await loginAgent(testApp.app, viewerEmail);
    await viewer.get('/').expect(200);

    const response = await postForm(admin, `/admin/users/${viewerId}/password`, { password: 'a brand new password' });

    expect(response.status).toBe(303);
    const loggedOut = await viewer.get('/');
    expect(loggedOut.status).toBe(303);
    expect(loggedOut.headers.location).toBe('/login');
    await loginAgent(testApp.app, viewerEmail, 'a brand new password');
    const [entry] = await auditRows(viewerId);
    expect(entry?.action).toBe('user.password_reset');
    expect(JSON.parse(entry!.after_json!)).toEqual({ passwordChanged: true, generated: false });
  });

  it('generates a password when empty', async () => {
    const response = await postForm(admin, `/admin/users/${viewerId}/password`, { password: '' });

    expect(response.status).toBe(200);
    const password = /<code class="one-time-password">([^<]+)<\/code>/.exec(response.text)?.[1];
    const user = await findUserByEmail(testApp.context.db, viewerEmail);
    expect(await verifyPassword(password!, user!.passwordHash)).toBe(true);
    expect(await verifyPassword(PASSWORD, user!.passwordHash)).toBe(false);
  });

  it('weak password is 422 and keeps the old one', async () => {
    const response = await postForm(admin, `/admin/users/${viewerId}/password`, { password: 'aaaaaaaaaaaa' });

    expect(response.status).toBe(422);
    expect(response.text).toContain('Password is too weak: use more different characters.');
    const user = await findUserByEmail(testApp.context.db, viewerEmail);
    expect(await verifyPassword(PASSWORD, user!.passwordHash)).toBe(true);
  });
});

describe('POST /admin/users/:id/role', () => {
  it('makes and unmakes an admin', async () => {
    expect((await postForm(admin, `/admin/users/${viewerId}/role`, { admin: 'true' })).status).toBe(303);
    expect((await findUserById(testApp.context.db, viewerId))?.isAdmin).toBe(true);

    expect((await postForm(admin, `/admin/users/${viewerId}/role`, { admin: 'false' })).status).toBe(303);
    expect((await findUserById(testApp.context.db, viewerId))?.isAdmin).toBe(false);

    const entries = await auditRows(viewerId);
    expect(entries.map((entry) => [entry.action, entry.after_json])).toEqual([
      ['user.role', '{"isAdmin":true}'],
      ['user.role', '{"isAdmin":false}'],
    ]);
  });

  it('last admin keeps the role', async () => {
    const response = await postForm(admin, `/admin/users/${adminId}/role`, { admin: 'false' });

    expect(response.status).toBe(303);
    expect(await flashAfter(admin, response.headers.location!)).toBe(
      'admin@example.com is the only admin, so the role stays. Make another user an admin first.',
    );
    expect((await findUserById(testApp.context.db, adminId))?.isAdmin).toBe(true);
  });

  it('invalid value is 400', async () => {
    const response = await postForm(admin, `/admin/users/${viewerId}/role`, { admin: 'yes' });

    expect(response.status).toBe(400);
    expect((await findUserById(testApp.context.db, viewerId))?.isAdmin).toBe(false);
  });
});

describe('POST /admin/users/:id/delete', () => {
  it('deletes the user and ends sessions', async () => {
    const viewer = await loginAgent(testApp.app, viewerEmail);

    const response = await postForm(admin, `/admin/users/${viewerId}/delete`);

    expect(response.status).toBe(303);
    expect(response.headers.location).toBe('/admin/users');
    expect(await findUserById(testApp.context.db, viewerId)).toBeUndefined();
    expect(await findSubscription(testApp.context.db, viewerId)).toBeUndefined();
    const sessions = await testApp.context.db.selectFrom('sessions').select('sid').where('user_id', '=', viewerId).execute();
    expect(sessions).toEqual([]);
    expect((await viewer.get(`/api/videos/${videoId}/playback`)).status).toBe(401);
    const [entry] = await auditRows(viewerId);
    expect(entry?.action).toBe('user.delete');
    expect(entry?.target_label).toBe(viewerEmail);
  });

  it('confirmation page comes first', async () => {
    const page = await admin.get(`/admin/users/${viewerId}/delete`);

    expect(page.status).toBe(200);
    expect(page.text).toContain(`Delete ${viewerEmail}?`);
    expect(await findUserById(testApp.context.db, viewerId)).toBeDefined();
  });

  it('own account is refused', async () => {
    const response = await postForm(admin, `/admin/users/${adminId}/delete`);

    expect(response.status).toBe(303);
    expect(await flashAfter(admin, response.headers.location!)).toBe('You cannot delete your own account. Ask another admin to do it.');
    expect(await findUserById(testApp.context.db, adminId)).toBeDefined();
  });

  it('unknown id is 404', async () => {
    const response = await postForm(admin, '/admin/users/AAAAAAAAAAAAAAAA/delete');

    expect(response.status).toBe(404);
  });
});
