import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { canWatch } from '../../src/access/can-watch.js';
import { runCli } from '../../src/cli/main.js';
import { findSubscription } from '../../src/subscriptions/subscription-repository.js';
import { countUsers, findUserByEmail } from '../../src/users/user-repository.js';
import { findVideo, listVideos } from '../../src/videos/video-repository.js';
import { PASSWORD, DEMO_POSTER, DEMO_VIDEO, addDemoVideo, createTestApp, loginAgent, type TestApp } from '../helpers/test-app.js';
import { databaseEnvFor } from '../helpers/test-database.js';
import { PROJECT_ROOT, builtFile } from './built-dist.js';

const ID = /^[A-Za-z0-9_-]{16}$/;
const SECOND_DEMO_VIDEO = path.resolve(import.meta.dirname, '../../demo/mandelbrot-zoom.mp4');

let dataDir: string;
let workDir: string;
let baseEnv: Record<string, string>;

beforeEach(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgate-cli-data-'));
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgate-cli-cwd-'));
  baseEnv = { DATA_DIR: dataDir, NODE_ENV: 'test', SEED_DEMO: 'false', ...(await databaseEnvFor(dataDir)) };
});

afterEach(() => {
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.rmSync(workDir, { recursive: true, force: true });
});

interface RunResult {
  code: number;
  out: string;
  err: string;
}

/** Runs one command in-process, as `reelgate ...argv` would from workDir. */
async function run(argv: string[], options: { stdin?: string; env?: Record<string, string | undefined>; cwd?: string } = {}): Promise<RunResult> {
  let out = '';
  let err = '';
  const code = await runCli(argv, {
    stdin: Readable.from(options.stdin === undefined ? [] : [Buffer.from(options.stdin)]),
    out: (text) => {
      out += text;
    },
    err: (text) => {
      err += text;
    },
    env: { ...baseEnv, ...options.env },
    cwd: options.cwd ?? workDir,
  });
  return { code, out, err };
}

/** Opens the server app on the same DATA_DIR (and database), runs `check`, and closes it again. */
async function withApp<T>(check: (testApp: TestApp) => Promise<T>): Promise<T> {
  const testApp = await createTestApp({}, dataDir);
  try {
    return await check(testApp);
  } finally {
    await testApp.close();
  }
}

async function addUser(email: string, password = PASSWORD, ...flags: string[]): Promise<RunResult> {
  const result = await run(['user', 'add', email, '--password-stdin', ...flags], { stdin: `${password}\n` });
  expect(result.err).toBe('');
  return result;
}

/** Every file below DATA_DIR/media, to show that a refused upload leaves nothing behind. */
function mediaFiles(): string[] {
  const media = path.join(dataDir, 'media');
  if (!fs.existsSync(media)) return [];
  return fs
    .readdirSync(media, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name));
}

describe('reelgate user add', () => {
  it('creates a user whose password from standard input logs in', async () => {
    const result = await run(['user', 'add', 'viewer@example.com', '--password-stdin'], { stdin: `${PASSWORD}\n` });

    expect(result).toMatchObject({ code: 0, err: '' });
    expect(result.out).toMatch(/^Created user viewer@example\.com \(id [A-Za-z0-9_-]{16}\)\.\n$/);
    await withApp(async (testApp) => {
      const user = await findUserByEmail(testApp.context.db, 'viewer@example.com');
      expect(user?.isAdmin).toBe(false);
      await loginAgent(testApp.app, 'viewer@example.com', PASSWORD);
    });
  });

  it('keeps spaces inside the password and drops only the final line break', async () => {
    await addUser('viewer@example.com', '  spaced out password  ');

    await withApp((testApp) => loginAgent(testApp.app, 'viewer@example.com', '  spaced out password  '));
  });

  it('stores the email trimmed and in lower case', async () => {
    const result = await addUser('Viewer@Example.COM');

    expect(result.out).toMatch(/^Created user viewer@example\.com /);
    await withApp((testApp) => loginAgent(testApp.app, 'viewer@example.com', PASSWORD));
  });

  it('creates an admin with --admin', async () => {
    const result = await addUser('boss@example.com', PASSWORD, '--admin');

    expect(result.out).toMatch(/^Created admin boss@example\.com \(id [A-Za-z0-9_-]{16}\)\.\n$/);
    await withApp(async (testApp) => expect((await findUserByEmail(testApp.context.db, 'boss@example.com'))?.isAdmin).toBe(true));
  });

  it('without --password-stdin prints a generated password once, and it logs in', async () => {
    const result = await run(['user', 'add', 'viewer@example.com']);

    expect(result.err).toBe('');
    expect(result.code).toBe(0);
    const lines = result.out.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^Created user viewer@example\.com \(id [A-Za-z0-9_-]{16}\)\.$/);
    const password = /^Password \(shown only now\): (\S+)$/.exec(lines[1]!)?.[1];
    expect(password).toBeDefined();
    expect(result.out.split(password!)).toHaveLength(2);
    await withApp((testApp) => loginAgent(testApp.app, 'viewer@example.com', password));
  });

  it.each([
    ['an invalid email', 'not-an-email', PASSWORD, 'invalid email "not-an-email": use name@example.com'],
    ['an email with a space', 'a b@example.com', PASSWORD, 'invalid email "a b@example.com": use name@example.com'],
    [
      'an empty password',
      'viewer@example.com',
      '',
      'no password on standard input: pipe one in, e.g. printf %s "$PASSWORD" | reelgate user add ...',
    ],
    [
      'only a line break',
      'viewer@example.com',
      '\n',
      'no password on standard input: pipe one in, e.g. printf %s "$PASSWORD" | reelgate user add ...',
    ],
    ['a short password', 'viewer@example.com', 'short', 'Password is too short: use at least 10 characters.'],
    ['a weak password', 'viewer@example.com', 'aaaaaaaaaaaaaaaa', 'Password is too weak: use more different characters.'],
  ])('refuses %s with exit 1, one line and no account', async (_case, email, stdin, message) => {
    const result = await run(['user', 'add', email, '--password-stdin'], { stdin });

    expect(result).toEqual({ code: 1, out: '', err: `reelgate: error: ${message}\n` });
    await withApp(async (testApp) => expect(await countUsers(testApp.context.db)).toBe(0));
  });

  it('refuses a duplicate email, in any case, and keeps the first password', async () => {
    await addUser('viewer@example.com');

    const result = await run(['user', 'add', 'VIEWER@example.com', '--password-stdin'], { stdin: 'another good password' });

    expect(result).toEqual({ code: 1, out: '', err: 'reelgate: error: a user with the email viewer@example.com already exists\n' });
    await withApp(async (testApp) => {
      expect(await countUsers(testApp.context.db)).toBe(1);
      await loginAgent(testApp.app, 'viewer@example.com', PASSWORD);
    });
  });
});

describe('reelgate user password', () => {
  it('sets a password from standard input and ends sessions', async () => {
    await addUser('viewer@example.com');
    await withApp((testApp) => loginAgent(testApp.app, 'viewer@example.com'));

    const result = await run(['user', 'password', 'viewer@example.com', '--password-stdin'], { stdin: 'a brand new passphrase\n' });

    expect(result).toMatchObject({ code: 0, err: '' });
    expect(result.out).toBe('Set a new password for viewer@example.com and ended 1 session.\n');
    await withApp(async (testApp) => {
      await loginAgent(testApp.app, 'viewer@example.com', 'a brand new passphrase');
      const rows = await testApp.context.db.selectFrom('audit_log').select(['actor_email', 'action', 'after_json']).where('action', '=', 'user.password_reset').execute();
      expect(rows).toEqual([{ actor_email: 'cli', action: 'user.password_reset', after_json: '{"passwordChanged":true,"generated":false}' }]);
    });
  });

  it('generates and prints a password once', async () => {
    await addUser('viewer@example.com');

    const result = await run(['user', 'password', 'viewer@example.com']);

    expect(result.code).toBe(0);
    const password = /^Password \(shown only now\): (\S+)$/m.exec(result.out)?.[1];
    expect(password).toBeDefined();
    await withApp((testApp) => loginAgent(testApp.app, 'viewer@example.com', password));
  });

  it.each([
    ['an unknown user', 'nobody@example.com', 'a brand new passphrase', 'unknown user nobody@example.com: create it with reelgate user add'],
    ['a short password', 'viewer@example.com', 'short', 'password is too short: use at least 10 characters.'],
  ])('exits 1 for %s', async (_case, email, password, message) => {
    await addUser('viewer@example.com');

    const result = await run(['user', 'password', email, '--password-stdin'], { stdin: password });

    expect(result.code).toBe(1);
    expect(result.err).toBe(`reelgate: error: ${message}\n`);
    await withApp((testApp) => loginAgent(testApp.app, 'viewer@example.com'));
  });
});

describe('reelgate subscription set', () => {
  beforeEach(async () => {
    await addUser('viewer@example.com');
  });

  async function subscriptionOf(email: string) {
    return withApp(async (testApp) => {
      const user = await findUserByEmail(testApp.context.db, email);
      return findSubscription(testApp.context.db, user!.id);
    });
  }

  it('--until is the last day of access, inclusive, in UTC', async () => {
    const result = await run(['subscription', 'set', 'viewer@example.com', '--active', 'true', '--until', '2099-01-31']);

    expect(result).toEqual({ code: 0, out: 'Subscription of viewer@example.com is now active until the end of 2099-01-31 (UTC).\n', err: '' });
    const subscription = await subscriptionOf('viewer@example.com');
    expect(subscription).toMatchObject({ active: true, endsAt: new Date('2099-02-01T00:00:00.000Z') });
    const user = { id: 'u', isAdmin: false };
    const video = { published: true };
    expect(canWatch(user, subscription, video, new Date('2099-01-31T23:59:59.999Z')).allowed).toBe(true);
    expect(canWatch(user, subscription, video, new Date('2099-02-01T00:00:00.000Z')).allowed).toBe(false);
  });

  it('without --until removes an earlier end date', async () => {
    await run(['subscription', 'set', 'viewer@example.com', '--active', 'true', '--until', '2099-01-31']);

    const result = await run(['subscription', 'set', 'viewer@example.com', '--active', 'true']);

    expect(result).toEqual({ code: 0, out: 'Subscription of viewer@example.com is now active.\n', err: '' });
    expect(await subscriptionOf('viewer@example.com')).toMatchObject({ active: true, endsAt: null });
  });

  it('--active false revokes access at once', async () => {
    await run(['subscription', 'set', 'viewer@example.com', '--active', 'true']);

    const result = await run(['subscription', 'set', 'Viewer@Example.com', '--active', 'false']);

    expect(result).toEqual({ code: 0, out: 'Subscription of viewer@example.com is now inactive.\n', err: '' });
    expect(await subscriptionOf('viewer@example.com')).toMatchObject({ active: false, endsAt: null });
  });

  it('says so when the last day has passed', async () => {
    const result = await run(['subscription', 'set', 'viewer@example.com', '--active', 'true', '--until', '2020-02-29']);

    expect(result.out).toBe(
      'Subscription of viewer@example.com is now active until the end of 2020-02-29 (UTC). That date has passed, so access is already over.\n',
    );
  });

  it.each([
    ['an unknown user', ['nobody@example.com', '--active', 'true'], 'unknown user nobody@example.com: create it first with reelgate user add'],
    ['a day that does not exist', ['viewer@example.com', '--active', 'true', '--until', '2027-02-30'], 'invalid date "2027-02-30": there is no such day in the calendar'],
    ['a two-digit year', ['viewer@example.com', '--active', 'true', '--until', '27-01-01'], 'invalid date "27-01-01": use YYYY-MM-DD, for example 2027-01-31'],
    ['a word', ['viewer@example.com', '--active', 'true', '--until', 'tomorrow'], 'invalid date "tomorrow": use YYYY-MM-DD, for example 2027-01-31'],
    ['month 13', ['viewer@example.com', '--active', 'true', '--until', '2027-13-01'], 'invalid date "2027-13-01": there is no such day in the calendar'],
    ['--active yes', ['viewer@example.com', '--active', 'yes'], 'invalid --active "yes": use true or false'],
    ['--active TRUE', ['viewer@example.com', '--active', 'TRUE'], 'invalid --active "TRUE": use true or false'],
  ])('refuses %s with exit 1, one line and no change', async (_case, args, message) => {
    const result = await run(['subscription', 'set', ...args]);

    expect(result).toEqual({ code: 1, out: '', err: `reelgate: error: ${message}\n` });
    expect(await subscriptionOf('viewer@example.com')).toBeUndefined();
  });

  it('refuses a missing --active as a usage error (exit 2)', async () => {
    const result = await run(['subscription', 'set', 'viewer@example.com']);

    expect(result.code).toBe(2);
    expect(result.err).toContain("error: required option '--active <true|false>' not specified");
  });
});

describe('reelgate video add', () => {
  it('stores the file and poster, registers the video and prints only its id', async () => {
    const result = await run(['video', 'add', DEMO_VIDEO, '--title', ' Colour bars ', '--description', 'A test pattern', '--poster', DEMO_POSTER]);

    expect(result.code).toBe(0);
    expect(result.err).toBe('');
    expect(result.out).toMatch(/^[A-Za-z0-9_-]{16}\n$/);
    const id = result.out.trim();
    await withApp(async (testApp) => {
      const video = await findVideo(testApp.context.db, id);
      expect(video).toMatchObject({
        title: 'Colour bars',
        description: 'A test pattern',
        contentType: 'video/mp4',
        sizeBytes: fs.statSync(DEMO_VIDEO).size,
        durationSeconds: 20,
        published: true,
      });
      expect((await testApp.context.storage.stat(video!.storageKey))?.size).toBe(fs.statSync(DEMO_VIDEO).size);
      expect((await testApp.context.storage.stat(video!.posterKey!))?.size).toBe(fs.statSync(DEMO_POSTER).size);
    });
  });

  it('resolves relative paths against the working folder', async () => {
    const result = await run(['video', 'add', 'color-bars.mp4', '--title', 'Bars', '--poster', 'color-bars.jpg'], { cwd: path.dirname(DEMO_VIDEO) });

    expect(result.code).toBe(0);
    expect(result.out.trim()).toMatch(ID);
  });

  it('the added video plays for a subscriber', async () => {
    const id = (await run(['video', 'add', DEMO_VIDEO, '--title', 'Bars'])).out.trim();
    await addUser('viewer@example.com');
    await run(['subscription', 'set', 'viewer@example.com', '--active', 'true']);

    await withApp(async (testApp) => {
      const agent = await loginAgent(testApp.app, 'viewer@example.com');
      const grant = await agent.get(`/api/videos/${id}/playback`).expect(200);
      const media = await agent.get(grant.body.url).set('Range', 'bytes=0-1').expect(206);
      expect(media.headers['content-range']).toBe(`bytes 0-1/${fs.statSync(DEMO_VIDEO).size}`);
    });
  });

  it.each([
    ['a missing file', () => ['nope.mp4', '--title', 'X'], () => `${path.join(workDir, 'nope.mp4')} does not exist`],
    [
      'a text file named .mp4',
      () => {
        fs.writeFileSync(path.join(workDir, 'notes.mp4'), 'these are my notes, not a video\n');
        return ['notes.mp4', '--title', 'X'];
      },
      () => `${path.join(workDir, 'notes.mp4')} is not a video: expected MP4, MOV, WebM or Ogg content`,
    ],
    ['a folder', () => [workDir, '--title', 'X'], () => `${workDir} is not a file`],
    ['a missing poster', () => [DEMO_VIDEO, '--title', 'X', '--poster', 'nope.jpg'], () => `${path.join(workDir, 'nope.jpg')} does not exist`],
    [
      'a poster that is not an image',
      () => [DEMO_VIDEO, '--title', 'X', '--poster', DEMO_VIDEO],
      () => `${DEMO_VIDEO} is not a poster image: use a .jpg, .png or .webp file`,
    ],
    ['a blank title', () => [DEMO_VIDEO, '--title', '   '], () => 'invalid --title: give 1 to 200 characters'],
    ['a title over 200 characters', () => [DEMO_VIDEO, '--title', 'x'.repeat(201)], () => 'invalid --title: give 1 to 200 characters'],
  ])('refuses %s with exit 1, one line and nothing stored', async (_case, args, message) => {
    const result = await run(['video', 'add', ...args()]);

    expect(result).toEqual({ code: 1, out: '', err: `reelgate: error: ${message()}\n` });
    expect(mediaFiles()).toEqual([]);
    await withApp(async (testApp) => expect(await listVideos(testApp.context.db, { publishedOnly: false })).toEqual([]));
  });

  it('refuses a file over MAX_UPLOAD_MB', async () => {
    const big = path.join(workDir, 'big.mp4');
    fs.writeFileSync(big, Buffer.alloc(1024 * 1024 + 1));

    const result = await run(['video', 'add', big, '--title', 'Big'], { env: { MAX_UPLOAD_MB: '1' } });

    expect(result).toEqual({ code: 1, out: '', err: `reelgate: error: ${big} is 1048577 bytes, more than the limit of 1048576 bytes (MAX_UPLOAD_MB)\n` });
  });

  it('refuses a missing --title as a usage error (exit 2)', async () => {
    const result = await run(['video', 'add', DEMO_VIDEO]);

    expect(result.code).toBe(2);
    expect(result.err).toContain("error: required option '--title <title>' not specified");
    expect(mediaFiles()).toEqual([]);
  });
});

describe('reelgate video list', () => {
  it('says how to add a video when there is none', async () => {
    expect(await run(['video', 'list'])).toEqual({ code: 0, out: 'No videos. Add one with: reelgate video add <file> --title <title>\n', err: '' });
    expect(await run(['video', 'list', '--json'])).toEqual({ code: 0, out: '[]\n', err: '' });
  });

  it('lists the videos oldest first, as text and as JSON', async () => {
    const first = (await run(['video', 'add', DEMO_VIDEO, '--title', 'First'])).out.trim();
    const second = (await run(['video', 'add', SECOND_DEMO_VIDEO, '--title', 'Second'])).out.trim();

    const text = await run(['video', 'list']);
    const json = await run(['video', 'list', '--json']);

    expect(text).toEqual({ code: 0, out: `${first}  published  First\n${second}  published  Second\n`, err: '' });
    expect(json.code).toBe(0);
    const rows = JSON.parse(json.out) as unknown[];
    expect(rows).toEqual([
      expect.objectContaining({ id: first, title: 'First', durationSeconds: 20, sizeBytes: fs.statSync(DEMO_VIDEO).size }),
      expect.objectContaining({ id: second, title: 'Second', durationSeconds: 15, sizeBytes: fs.statSync(SECOND_DEMO_VIDEO).size }),
    ]);
  });
});

describe('reelgate --help', () => {
  it.each([
    [['user', 'add'], 'Usage: reelgate user add [options] <email>', 'create a user; the password is read from standard input, or generated and printed once'],
    [['subscription', 'set'], 'Usage: reelgate subscription set [options] <email>', "set a user's subscription; takes effect on the user's next playback request"],
    [['video', 'add'], 'Usage: reelgate video add [options] <file>', 'upload a video file to the configured storage, register it, and print its id'],
    [['video', 'list'], 'Usage: reelgate video list [options]', 'list the videos, oldest first'],
    [[], 'Usage: reelgate [options] [command]', 'Manage a reelgate site: users, subscriptions and videos.'],
  ])('%j --help says what it does, exits 0 and touches no data', async (command, usage, description) => {
    const result = await run([...command, '--help']);

    expect(result.code).toBe(0);
    expect(result.err).toBe('');
    expect(result.out.startsWith(`${usage}\n`)).toBe(true);
    // commander wraps lines at the terminal width.
    expect(result.out.replace(/\s+/g, ' ')).toContain(description);
    expect(fs.readdirSync(dataDir)).toEqual([]);
  });

  it('refuses an unknown command as a usage error (exit 2)', async () => {
    const result = await run(['video', 'remove', 'abc']);

    expect(result.code).toBe(2);
    expect(result.err).toContain("error: unknown command 'remove'");
  });
});

describe('settings', () => {
  function videoFileIn(folder: string, id: string): string {
    return path.join(folder, 'media', 'videos', id, 'color-bars.mp4');
  }

  it('reads .env from the working folder', async () => {
    fs.writeFileSync(path.join(workDir, '.env'), 'DATA_DIR=./from-dotenv\n');

    const result = await run(['video', 'add', DEMO_VIDEO, '--title', 'Bars'], { env: { DATA_DIR: undefined } });

    expect(result.code).toBe(0);
    expect(fs.existsSync(videoFileIn(path.join(workDir, 'from-dotenv'), result.out.trim()))).toBe(true);
  });

  it('lets real environment variables win over .env', async () => {
    fs.writeFileSync(path.join(workDir, '.env'), 'DATA_DIR=./from-dotenv\nMEDIA_URL_TTL_SECONDS=3\n');

    const result = await run(['video', 'add', DEMO_VIDEO, '--title', 'Bars'], { env: { MEDIA_URL_TTL_SECONDS: '60' } });

    expect(result.code).toBe(0);
    expect(fs.existsSync(videoFileIn(dataDir, result.out.trim()))).toBe(true);
    expect(fs.existsSync(path.join(workDir, 'from-dotenv'))).toBe(false);
  });

  it('works with .env.example copied as .env', async () => {
    fs.copyFileSync(path.join(PROJECT_ROOT, '.env.example'), path.join(workDir, '.env'));

    const result = await run(['video', 'list', '--json'], { env: { DATA_DIR: undefined, LOG_LEVEL: 'silent' } });

    expect(result).toEqual({ code: 0, out: '[]\n', err: '' });
  });

  it('stops on a bad setting with one line naming it', async () => {
    const result = await run(['video', 'list'], { env: { MEDIA_URL_TTL_SECONDS: '3' } });

    expect(result).toEqual({ code: 1, out: '', err: 'reelgate: error: MEDIA_URL_TTL_SECONDS must be at least 5 (got "3")\n' });
  });
});

describe('the installed command while the server runs', () => {
  interface ChildResult {
    code: number | null;
    stdout: string;
    stderr: string;
  }

  /** Runs `node bin/reelgate.js ...args` as a separate process, with a time limit. */
  function runBin(args: string[], stdin = ''): Promise<ChildResult> {
    builtFile('cli/bin.js');
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [path.join(PROJECT_ROOT, 'bin/reelgate.js'), ...args], {
        cwd: workDir,
        env: { PATH: process.env.PATH ?? '', ...baseEnv },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`reelgate ${args.join(' ')} did not finish within 15 s; stderr: ${stderr}`));
      }, 15_000);
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
      child.stdin.end(stdin);
    });
  }

  it('lists, adds users and changes subscriptions on the database the server has open', async () => {
    await withApp(async (testApp) => {
      const video = await addDemoVideo(testApp, 'Added through the app');

      const list = await runBin(['video', 'list', '--json']);
      const added = await runBin(['user', 'add', 'viewer@example.com', '--password-stdin'], `${PASSWORD}\n`);
      const subscribed = await runBin(['subscription', 'set', 'viewer@example.com', '--active', 'true']);

      expect(list).toMatchObject({ code: 0, stderr: '' });
      expect(JSON.parse(list.stdout)).toEqual([expect.objectContaining({ id: video.id, title: 'Added through the app' })]);
      expect(added).toMatchObject({ code: 0, stderr: '' });
      expect(subscribed).toMatchObject({ code: 0, stderr: '', stdout: 'Subscription of viewer@example.com is now active.\n' });
      // The running app sees the CLI's writes at once.
      const agent = await loginAgent(testApp.app, 'viewer@example.com');
      await agent.get(`/api/videos/${video.id}/playback`).expect(200);
    });
  });

  it('exits 1 with one line on an error', async () => {
    const result = await runBin(['subscription', 'set', 'nobody@example.com', '--active', 'true']);

    expect(result).toEqual({ code: 1, stdout: '', stderr: 'reelgate: error: unknown user nobody@example.com: create it first with reelgate user add\n' });
  });
});
