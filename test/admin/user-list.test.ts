import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { addUser, createTestApp, loginAgent, type TestApp } from '../helpers/test-app.js';

const GENERATED_USERS = 300;

let testApp: TestApp;
let admin: ReturnType<typeof request.agent>;

beforeAll(async () => {
  testApp = await createTestApp();
  await addUser(testApp, 'admin@example.com', { admin: true });
  admin = await loginAgent(testApp.app, 'admin@example.com');

  // Inserted as rows, without hashing a password for each, to keep the setup fast.
  const rows = Array.from({ length: GENERATED_USERS }, (_, index) => ({
    id: `gen${String(index).padStart(13, '0')}`,
    email: `user${String(index).padStart(3, '0')}@${index % 3 === 0 ? 'fizz' : 'buzz'}.example`,
    password_hash: 'scrypt$unused',
    is_admin: 0,
    created_at: '2026-01-01T00:00:00.000Z',
    last_login_at: null,
  }));
  for (let start = 0; start < rows.length; start += 100) {
    await testApp.context.db.insertInto('users').values(rows.slice(start, start + 100)).execute();
  }
  await testApp.context.db
    .insertInto('subscriptions')
    .values({ user_id: 'gen0000000000007', active: 1, ends_at: '2030-07-01T00:00:00.000Z', updated_at: '2026-01-01T00:00:00.000Z' })
    .execute();
});

afterAll(() => testApp.close());

function emailsOn(html: string): string[] {
  return [...html.matchAll(/<td><a href="\/admin\/users\/[^"]+">([^<]+)<\/a><\/td>/g)].map((match) => match[1]!);
}

function linkOf(html: string, rel: 'next' | 'prev'): string | undefined {
  const match = new RegExp(`<a href="([^"]+)" rel="${rel}">`).exec(html);
  return match?.[1]?.replaceAll('&amp;', '&');
}

describe('GET /admin/users', () => {
  it('first page has 50 in email order', async () => {
    const response = await admin.get('/admin/users');

    expect(response.status).toBe(200);
    const emails = emailsOn(response.text);
    expect(emails.length).toBe(50);
    expect(emails[0]).toBe('admin@example.com');
    expect(emails[1]).toBe('user000@fizz.example');
    expect(emails[49]).toBe('user048@fizz.example');
    expect(response.text).toContain('301 users.');
    expect(linkOf(response.text, 'prev')).toBeUndefined();
  });

  it('next and previous walk the pages', async () => {
    const first = await admin.get('/admin/users');
    const second = await admin.get(linkOf(first.text, 'next')!);

    expect(second.status).toBe(200);
    const emails = emailsOn(second.text);
    expect(emails[0]).toBe('user049@buzz.example');
    expect(emails.length).toBe(50);

    const back = await admin.get(linkOf(second.text, 'prev')!);
    expect(back.status).toBe(200);
    expect(emailsOn(back.text)).toEqual(emailsOn(first.text));
  });

  it('last page has no next link', async () => {
    let page = await admin.get('/admin/users');
    const seen: string[] = [];
    for (let count = 0; count < 10 && page.status === 200; count += 1) {
      seen.push(...emailsOn(page.text));
      const next = linkOf(page.text, 'next');
      if (!next) break;
      page = await admin.get(next);
    }

    expect(page.status).toBe(200);
    expect(seen.length).toBe(301);
    expect(new Set(seen).size).toBe(301);
    expect(linkOf(page.text, 'next')).toBeUndefined();
  });

  it('search matches part of the email', async () => {
    const response = await admin.get('/admin/users').query({ q: 'FIZZ' });

    expect(response.status).toBe(200);
    expect(response.text).toContain('100 users match “FIZZ”.');
    expect(emailsOn(response.text).every((email) => email.endsWith('@fizz.example'))).toBe(true);
  });

  it('search pages keep the search', async () => {
    const first = await admin.get('/admin/users').query({ q: 'fizz' });
    const second = await admin.get(linkOf(first.text, 'next')!);

    expect(second.status).toBe(200);
    const emails = emailsOn(second.text);
    expect(emails.length).toBe(50);
    expect(emails[0]).toBe('user150@fizz.example');
    expect(linkOf(second.text, 'next')).toBeUndefined();
  });

  it('LIKE wildcards match literally', async () => {
    const response = await admin.get('/admin/users').query({ q: '%' });

    expect(response.status).toBe(200);
    expect(emailsOn(response.text)).toEqual([]);
    expect(response.text).toContain('No users found.');
  });

  it('shows subscription state and last day', async () => {
    const response = await admin.get('/admin/users').query({ q: 'user007@' });

    expect(response.status).toBe(200);
    expect(response.text).toContain('<span class="state state-active">active</span>');
    expect(response.text).toContain('<td>2030-06-30</td>');
  });

  it('too long search is 400', async () => {
    const response = await admin.get('/admin/users').query({ q: 'x'.repeat(321) });

    expect(response.status).toBe(400);
    expect(response.text).toContain('The search text is too long: use at most 320 characters.');
  });
});
