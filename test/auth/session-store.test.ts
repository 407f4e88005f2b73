import type session from 'express-session';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { DatabaseSessionStore } from '../../src/auth/session-store.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';

/* DatabaseSessionStore.touch: a rolling cookie touches on every request, but the row is written sparingly. */

let testApp: TestApp;
let store: DatabaseSessionStore;

beforeAll(async () => {
  testApp = await createTestApp();
  store = new DatabaseSessionStore(testApp.context.db, { defaultTtlMs: 60_000 });
});

afterAll(() => testApp.close());

function sessionExpiringAt(at: Date): session.SessionData {
  return { cookie: { expires: at, originalMaxAge: 60_000 } } as unknown as session.SessionData;
}

function call(method: (done: (err?: unknown) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => method((err) => (err ? reject(err) : resolve())));
}

async function storedExpiry(sid: string): Promise<string> {
  const row = await testApp.context.db.selectFrom('sessions').select('expires_at').where('sid', '=', sid).executeTakeFirstOrThrow();
  return row.expires_at;
}

describe('DatabaseSessionStore touch', () => {
  const start = new Date('2030-01-01T00:00:00.000Z');

  it('skips a write for a small step', async () => {
    await call((done) => store.set('small-step', sessionExpiringAt(start), done));

    await call((done) => store.touch('small-step', sessionExpiringAt(new Date(start.getTime() + 30_000)), done));

    expect(await storedExpiry('small-step')).toBe(start.toISOString());
  });

  it('writes a step over a minute', async () => {
    await call((done) => store.set('big-step', sessionExpiringAt(start), done));
    const later = new Date(start.getTime() + 90_000);

    await call((done) => store.touch('big-step', sessionExpiringAt(later), done));

    expect(await storedExpiry('big-step')).toBe(later.toISOString());
  });
});
