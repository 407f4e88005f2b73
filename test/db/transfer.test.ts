import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';

import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';

import { runCli } from '../../src/cli/main.js';
import { addDemoVideo, addUser, createTestApp, loginAgent, type TestApp } from '../helpers/test-app.js';
import { postgresAvailable, postgresEnvFor } from '../helpers/test-database.js';

/* reelgate db export / import: moving a whole installation, e.g. from embedded SQLite to PostgreSQL. */

const opened: TestApp[] = [];

afterEach(async () => {
  await Promise.all(opened.splice(0).map((testApp) => testApp.close()));
});

async function open(env: Record<string, string> = {}, dataDir?: string): Promise<TestApp> {
  const testApp = await createTestApp(env, dataDir);
  opened.push(testApp);
  return testApp;
}

async function cli(argv: string[], env: Record<string, string>, cwd: string) {
  let out = '';
  let err = '';
  const stdin = new PassThrough();
  stdin.end();
  const code = await runCli(argv, { stdin, out: (text) => (out += text), err: (text) => (err += text), env: { NODE_ENV: 'test', SEED_DEMO: 'false', ...env }, cwd });
  return { code, out, err };
}

/** A source installation with one of everything that moves. */
async function populatedSource(env: Record<string, string> = {}): Promise<{ source: TestApp; videoId: string }> {
  const source = await open(env);
  const video = await addDemoVideo(source, 'Moved <video>');
  await addUser(source, 'sub@example.com', { subscription: { active: true, endsAt: new Date('2030-01-01T00:00:00Z') } });
  await addUser(source, 'admin@example.com', { admin: true });
  await source.context.db
    .insertInto('audit_log')
    .values({ at: new Date().toISOString(), actor_id: null, actor_email: 'cli', action: 'video.create', target_type: 'video', target_id: video.id, before_json: null, after_json: '{"title":"Moved"}' } as never)
    .execute();
  return { source, videoId: video.id };
}

function tempFile(name: string): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'reelgate-export-')), name);
}

describe('reelgate db export and import', () => {
  it('carries users, subscriptions, videos and audit log', async () => {
    const { source, videoId } = await populatedSource();
    const file = tempFile('export.json');

    const exported = await cli(['db', 'export', '--output', file], { DATA_DIR: source.dataDir, ...dbEnv(source) }, source.dataDir);
    expect(exported.code).toBe(0);
    expect(exported.out).toMatch(/Exported 2 users, 1 subscriptions, 1 videos, 1 audit_log/);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);

    // The target shares the media folder, as an operator moving only the database would.
    const target = await open({});
    fs.cpSync(path.join(source.dataDir, 'media'), path.join(target.dataDir, 'media'), { recursive: true });
    const imported = await cli(['db', 'import', file], { DATA_DIR: target.dataDir, ...dbEnv(target) }, target.dataDir);
    expect(imported.err).toBe('');
    expect(imported.code).toBe(0);
    expect(imported.out).toMatch(/Imported 2 users, 1 subscriptions, 1 videos, 1 audit_log/);

    const agent = await loginAgent(target.app, 'sub@example.com');
    await agent.get(`/api/videos/${videoId}/playback`).expect(200);
    const audit = await target.context.db.selectFrom('audit_log').selectAll().execute();
    expect(audit.map((row) => row.action)).toEqual(['video.create']);
  });

  it('refuses a target that is not empty', async () => {
    const { source } = await populatedSource();
    const file = tempFile('export.json');
    await cli(['db', 'export', '--output', file], { DATA_DIR: source.dataDir, ...dbEnv(source) }, source.dataDir);

    const result = await cli(['db', 'import', file], { DATA_DIR: source.dataDir, ...dbEnv(source) }, source.dataDir);

    expect(result.code).toBe(1);
    expect(result.err).toBe('reelgate: error: the target database is not empty (users has rows): import only into a new database\n');
  });

  it.each([
    ['not JSON', 'hello', 'the file is not valid JSON: pass a file written by "reelgate db export"'],
    ['another format', '{"format":"x","version":1,"exportedAt":"","tables":{}}', 'the file is not a valid export: format not a reelgate export: "format" must be "reelgate-export"'],
  ])('rejects a file that is %s', async (_case, content, message) => {
    const target = await open({});
    const file = tempFile('bad.json');
    fs.writeFileSync(file, content);

    const result = await cli(['db', 'import', file], { DATA_DIR: target.dataDir, ...dbEnv(target) }, target.dataDir);

    expect(result.code).toBe(1);
    expect(result.err).toBe(`reelgate: error: ${message}\n`);
    expect(await target.context.db.selectFrom('users').selectAll().execute()).toEqual([]);
  });

  it('refuses to overwrite an existing output file', async () => {
    const { source } = await populatedSource();
    const file = tempFile('export.json');
    fs.writeFileSync(file, 'keep me');

    const result = await cli(['db', 'export', '--output', file], { DATA_DIR: source.dataDir, ...dbEnv(source) }, source.dataDir);

    expect(result.code).toBe(1);
    expect(fs.readFileSync(file, 'utf8')).toBe('keep me');
  });

  it('moves embedded SQLite to PostgreSQL', async (context) => {
    if (!(await postgresAvailable())) {
      if (process.env.CI === 'true') throw new Error('PostgreSQL is required under CI');
      context.skip();
    }
    const { source, videoId } = await populatedSource({ DATABASE_URL: '' });
    expect(source.context.dialect).toBe('sqlite');
    const file = tempFile('export.json');
    await cli(['db', 'export', '--output', file], { DATA_DIR: source.dataDir }, source.dataDir);

    const targetDir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgate-pg-target-'));
    const pgEnv = await postgresEnvFor(targetDir);
    const migrated = await cli(['db', 'migrate'], { DATA_DIR: targetDir, ...pgEnv }, targetDir);
    expect(migrated.out).toMatch(/^Ran migrations: 001-initial/);
    const imported = await cli(['db', 'import', file], { DATA_DIR: targetDir, ...pgEnv }, targetDir);
    expect(imported.code).toBe(0);

    fs.cpSync(path.join(source.dataDir, 'media'), path.join(targetDir, 'media'), { recursive: true });
    const target = await open(pgEnv, targetDir);
    expect(target.context.dialect).toBe('postgres');
    const agent = await loginAgent(target.app, 'sub@example.com');
    await agent.get(`/api/videos/${videoId}/playback`).expect(200);
    await request(target.app).get('/readyz').expect(200);
    // The audit sequence moved past the imported ids, so a new entry does not collide.
    await target.context.db
      .insertInto('audit_log')
      .values({ at: new Date().toISOString(), actor_id: null, actor_email: 'cli', action: 'video.update', target_type: 'video', target_id: videoId, before_json: null, after_json: null } as never)
      .execute();
  });
});

describe('reelgate db migrate', () => {
  it('reports an up-to-date schema', async () => {
    const testApp = await open({});

    const result = await cli(['db', 'migrate'], { DATA_DIR: testApp.dataDir, ...dbEnv(testApp) }, testApp.dataDir);

    expect(result.code).toBe(0);
    expect(result.out).toBe('The database schema is up to date.\n');
  });
});

describe('GET /readyz', () => {
  it('is 200 when migrated', async () => {
    const testApp = await open({});

    const response = await request(testApp.app).get('/readyz').expect(200);

    expect(response.body).toEqual({ status: 'ok' });
  });

  it('is 503 while a migration is pending', async () => {
    const testApp = await open({});
    await testApp.context.db.deleteFrom('kysely_migration' as never).where('name' as never, '=', '001-initial' as never).execute();

    const response = await request(testApp.app).get('/readyz').expect(503);

    expect(response.body).toEqual({ status: 'unavailable', reason: 'database migrations pending' });
    await request(testApp.app).get('/healthz').expect(200);
  });
});

function dbEnv(testApp: TestApp): Record<string, string> {
  return testApp.config.databaseUrl ? { DATABASE_URL: testApp.config.databaseUrl } : {};
}
