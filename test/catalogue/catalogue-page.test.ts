import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { addUser, createTestApp, loginAgent, type TestApp } from '../helpers/test-app.js';

/* GET / pages through the catalogue, 48 videos a page, oldest first. */

let testApp: TestApp;
let agent: Awaited<ReturnType<typeof loginAgent>>;

beforeAll(async () => {
  testApp = await createTestApp();
  const start = Date.parse('2026-01-01T00:00:00Z');
  const rows = Array.from({ length: 100 }, (_, index) => ({
    id: `video${String(index).padStart(11, '0')}`,
    title: `Video number ${index}`,
    description: '',
    storage_key: `videos/${index}.mp4`,
    content_type: 'video/mp4',
    size_bytes: 1,
    duration_seconds: null,
    poster_key: null,
    published: 1,
    created_at: new Date(start + index * 1000).toISOString(),
    updated_at: new Date(start).toISOString(),
  }));
  await testApp.context.db.insertInto('videos').values(rows).execute();
  await addUser(testApp, 'sub@example.com', { subscription: { active: true } });
  agent = await loginAgent(testApp.app, 'sub@example.com');
});

afterAll(() => testApp.close());

function titlesIn(html: string): string[] {
  return [...html.matchAll(/<span class="title">([^<]+)<\/span>/g)].map((match) => match[1]!);
}

describe('GET / catalogue pages', () => {
  it('shows the first 48 oldest first', async () => {
    const response = await agent.get('/').expect(200);

    const titles = titlesIn(response.text);
    expect(titles).toHaveLength(48);
    expect(titles[0]).toBe('Video number 0');
    expect(titles[47]).toBe('Video number 47');
    expect(response.text).toContain('Page 1 of 3 (100 videos)');
    expect(response.text).toContain('href="/?page=2"');
    expect(response.text).not.toContain('rel="prev"');
  });

  it('shows the last page', async () => {
    const response = await agent.get('/?page=3').expect(200);

    expect(titlesIn(response.text)).toEqual(['Video number 96', 'Video number 97', 'Video number 98', 'Video number 99']);
    expect(response.text).not.toContain('rel="next"');
  });

  it('answers 404 past the last page', async () => {
    const response = await agent.get('/?page=4').expect(404);

    expect(response.text).toContain('There is no page 4: the catalogue has 3.');
  });

  it.each([['0', 'Pages are numbered from 1.'], ['abc', 'The page number must be a whole number, such as ?page=2.'], ['1.5', 'The page number must be a whole number, such as ?page=2.']])(
    'answers 400 for page=%s',
    async (page, message) => {
      const response = await agent.get(`/?page=${page}`).expect(400);

      expect(response.text).toContain(message);
    },
  );
});
