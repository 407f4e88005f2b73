import { Readable } from 'node:stream';

import { sql } from 'kysely';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { addUserCommand, addVideoCommand, setSubscriptionCommand } from '../../src/cli/commands.js';
import type { CliIo } from '../../src/cli/cli-io.js';
import { DEMO_VIDEO, addUser, createTestApp, loginAgent, type TestApp } from '../helpers/test-app.js';
import { postForm } from './admin-helpers.js';

let testApp: TestApp;
let admin: ReturnType<typeof request.agent>;

beforeAll(async () => {
  testApp = await createTestApp();
  await addUser(testApp, 'admin@example.com', { admin: true });
  admin = await loginAgent(testApp.app, 'admin@example.com');
});

afterAll(() => testApp.close());

function quietIo(): CliIo {
  return { stdin: Readable.from([]), out: () => undefined, err: () => undefined, env: {}, cwd: process.cwd() };
}

async function latestEntry() {
  return testApp.context.db.selectFrom('audit_log').selectAll().orderBy('id', 'desc').executeTakeFirstOrThrow();
}

describe('audit_log table', () => {
  it('rejects UPDATE', async () => {
    const viewer = await addUser(testApp, 'update-target@example.com');
    await postForm(admin, `/admin/users/${viewer.id}/subscription/grant`, { endsOn: '' });
    const entry = await latestEntry();

    await expect(testApp.context.db.updateTable('audit_log').set({ actor_email: 'someone@else.example' }).execute()).rejects.toThrow(
      /append-only/,
    );
    expect((await latestEntry()).actor_email).toBe(entry.actor_email);
  });

  it('rejects DELETE', async () => {
    const before = await testApp.context.db.selectFrom('audit_log').select(sql<number>`count(*)`.as('count')).executeTakeFirstOrThrow();

    await expect(testApp.context.db.deleteFrom('audit_log').execute()).rejects.toThrow(/append-only/);
    const after = await testApp.context.db.selectFrom('audit_log').select(sql<number>`count(*)`.as('count')).executeTakeFirstOrThrow();
    expect(Number(after.count)).toBe(Number(before.count));
  });
});

describe('CLI changes', () => {
  it('user add records actor cli', async () => {
    await addUserCommand(testApp.services, quietIo(), 'cli-made@example.com', {});

    const entry = await latestEntry();
    expect(entry.actor_email).toBe('cli');
    expect(entry.actor_id).toBeNull();
    expect(entry.action).toBe('user.create');
    expect(entry.target_label).toBe('cli-made@example.com');
  });

  it('subscription set records before and after', async () => {
    await addUser(testApp, 'cli-sub@example.com', { subscription: { active: true } });

    await setSubscriptionCommand(testApp.services, quietIo(), 'cli-sub@example.com', { active: 'false', until: '2031-01-31' });

    const entry = await latestEntry();
    expect(entry.actor_email).toBe('cli');
    expect(entry.action).toBe('subscription.set');
    expect(JSON.parse(entry.before_json!)).toEqual({ active: true, endsAt: null });
    expect(JSON.parse(entry.after_json!)).toEqual({ active: false, endsAt: '2031-02-01T00:00:00.000Z' });
  });

  it('video add records the video', async () => {
    await addVideoCommand({ ...testApp.services, maxUploadBytes: testApp.config.maxUploadBytes }, quietIo(), DEMO_VIDEO, { title: 'From the CLI' });

    const entry = await latestEntry();
    expect(entry.actor_email).toBe('cli');
    expect(entry.action).toBe('video.create');
    expect(entry.target_label).toBe('From the CLI');
  });
});

describe('GET /admin/audit', () => {
  it('filters by user', async () => {
    const viewer = await addUser(testApp, 'filter-me@example.com');
    await postForm(admin, `/admin/users/${viewer.id}/role`, { admin: 'true' });

    const response = await admin.get('/admin/audit').query({ user: 'Filter-Me@example.com' });

    expect(response.status).toBe(200);
    const rows = response.text.match(/<tr>\s*<td>\d{4}-/g) ?? [];
    expect(rows.length).toBe(1);
    expect(response.text).toContain('user filter-me@example.com');
    expect(response.text).toContain('Admin role changed');
  });

  it('filters by kind of change', async () => {
    const response = await admin.get('/admin/audit').query({ action: 'video.create' });

    expect(response.status).toBe(200);
    expect(response.text).toContain('From the CLI');
    expect(response.text).not.toContain('Admin role changed</td>');
    expect(response.text).toContain('<option value="video.create" selected>');
  });

  it('filters by actor cli', async () => {
    const response = await admin.get('/admin/audit').query({ user: 'cli' });

    expect(response.status).toBe(200);
    const rows = response.text.match(/<tr>\s*<td>\d{4}-/g) ?? [];
    expect(rows.length).toBe(3);
  });

  it('unknown kind is 400', async () => {
    const response = await admin.get('/admin/audit').query({ action: 'user.explode' });

    expect(response.status).toBe(400);
    expect(response.text).toContain('Unknown kind of change: pick one from the list.');
  });
});

describe('GET /admin/audit values', () => {
  it('shows a subscription end as its last day', async () => {
    await addUser(testApp, 'last-day@example.com', { subscription: { active: true } });
    await setSubscriptionCommand(testApp.services, quietIo(), 'last-day@example.com', { active: 'true', until: '2027-06-30' });

    const response = await admin.get('/admin/audit?action=subscription.set&user=last-day%40example.com').expect(200);

    expect(response.text).toContain('<td>active: yes, last day: none</td>');
    expect(response.text).toContain('<td>active: yes, last day: 2027-06-30</td>');
    expect(response.text).not.toContain('2027-07-01');
  });
});
