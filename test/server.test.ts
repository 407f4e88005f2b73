import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { allocatorFactsOf, RECOMMENDED_GLIBC_TUNABLES } from '../src/allocator-setting.js';
import { builtFile } from './cli/built-dist.js';
import { csrfTokenFrom } from './helpers/test-app.js';
import { databaseEnvFor } from './helpers/test-database.js';
import { freePort, withTimeout } from './helpers/local-process.js';
import { startS3Server, type S3TestServer } from './helpers/s3-server.js';

/*
 * The real `node dist/server.js` process, as an operator starts it: console output, log lines, exit codes,
 * signals and restarts. Every wait is bounded, and every child process is killed after its test.
 */

const START_TIMEOUT_MS = 20_000;
const EXIT_TIMEOUT_MS = 15_000;
const runsOnGlibc = allocatorFactsOf({ delivery: 'proxy', mediaOffload: 'none' }).glibcVersion !== undefined;
const PASSWORD_LINES = /^\s+(admin|subscriber):\s+(\S+@example\.com)\s+(\S+)$/gm;

interface ServerProcess {
  child: ChildProcess;
  baseUrl: string;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

// Processes started by the current test. A describe that shares a process across its tests kills it in afterAll.
const startedByTest = new Set<ChildProcess>();
const tempDirs: string[] = [];

afterEach(async () => {
  await Promise.all([...startedByTest].map((child) => killAndWait(child)));
  startedByTest.clear();
});

afterAll(() => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgate-server-'));
  tempDirs.push(dir);
  return dir;
}

async function killAndWait(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await withTimeout(exited, 5000, 'a killed server process did not exit');
}



/** Starts `node dist/server.js` in a fresh working folder, with only the environment given here. */
async function startServer(dataDir: string, env: Record<string, string> = {}, options = { sharedAcrossTests: false }): Promise<ServerProcess> {
  const serverJs = builtFile('server.js');
  const port = await freePort();
  const child = spawn(process.execPath, [serverJs], {
    cwd: tempDir(),
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'development',
      DATA_DIR: dataDir,
      PORT: String(port),
      HOST: '127.0.0.1',
      // The most verbose level a real run could use, so the check for leaked passwords reads every log line.
      LOG_LEVEL: 'trace',
      ...(await databaseEnvFor(dataDir)),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (!options.sharedAcrossTests) startedByTest.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return { child, baseUrl: `http://127.0.0.1:${port}`, stdout: () => stdout, stderr: () => stderr, exited };
}

/** Polls GET /healthz until it returns 200. Fails early, with the output, when the process exits. */
async function waitUntilHealthy(server: ServerProcess): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  let exited = false;
  void server.exited.then(() => (exited = true));
  while (Date.now() < deadline) {
    if (exited) throw new Error(`the server exited before it was healthy.\nstdout:\n${server.stdout()}\nstderr:\n${server.stderr()}`);
    try {
      const response = await fetch(`${server.baseUrl}/healthz`, { signal: AbortSignal.timeout(2000) });
      if (response.status === 200) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`GET /healthz did not answer 200 within ${START_TIMEOUT_MS} ms.\nstdout:\n${server.stdout()}\nstderr:\n${server.stderr()}`);
}

async function stopWith(server: ServerProcess, signal: NodeJS.Signals) {
  server.child.kill(signal);
  return withTimeout(server.exited, EXIT_TIMEOUT_MS, `the server did not exit after ${signal}`);
}

function exitOf(server: ServerProcess) {
  return withTimeout(server.exited, EXIT_TIMEOUT_MS, 'the server did not exit');
}

/** The JSON lines pino wrote; everything else on stdout is console text for the operator. */
function logLinesOf(output: string): string[] {
  return output.split('\n').filter((line) => line.startsWith('{'));
}

function demoPasswordsIn(output: string): Map<string, string> {
  return new Map([...output.matchAll(PASSWORD_LINES)].map((match) => [match[2]!, match[3]!]));
}

function sessionCookieOf(response: Response): string {
  const cookie = response.headers.getSetCookie().find((line) => line.startsWith('reelgate.sid='));
  if (!cookie) throw new Error(`no session cookie in the ${response.status} answer`);
  return cookie.split(';')[0]!;
}

/** Logs in over HTTP as a browser would and returns the session cookie ("reelgate.sid=..."). */
async function logIn(baseUrl: string, email: string, password: string): Promise<string> {
  const page = await fetch(`${baseUrl}/login`);
  expect(page.status).toBe(200);
  const token = csrfTokenFrom(await page.text());

  const response = await fetch(`${baseUrl}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: sessionCookieOf(page), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: token, email, password }),
  });

  expect(response.status).toBe(303);
  return sessionCookieOf(response);
}

async function videoIdsOnCatalogue(baseUrl: string, cookie: string): Promise<string[]> {
  const response = await fetch(`${baseUrl}/`, { headers: { cookie }, redirect: 'manual' });
  expect(response.status).toBe(200);
  return [...new Set([...(await response.text()).matchAll(/href="\/videos\/([A-Za-z0-9_-]{16})"/g)].map((match) => match[1]!))];
}

describe('node dist/server.js on a new DATA_DIR, then restarted', () => {
  const dataDir = tempDir();
  let first: ServerProcess;
  let passwords: Map<string, string>;
  let viewerCookie: string;
  let videoIds: string[];

  beforeAll(async () => {
    first = await startServer(dataDir, {}, { sharedAcrossTests: true });
    await waitUntilHealthy(first);
    passwords = demoPasswordsIn(first.stdout());
  });

  afterAll(async () => {
    if (first) await killAndWait(first.child);
  });

  it('shows the two demo passwords on the console exactly once', () => {
    const everything = first.stdout() + first.stderr();

    expect([...passwords.keys()]).toEqual(['admin@example.com', 'viewer@example.com']);
    for (const password of passwords.values()) expect(everything.split(password)).toHaveLength(2);
    expect(everything.match(/These passwords are shown only this once/g)).toHaveLength(1);
  });

  it('writes JSON log lines that never contain the passwords', () => {
    const lines = logLinesOf(first.stdout());

    expect(lines.map((line) => (JSON.parse(line) as { msg: string }).msg)).toEqual(
      expect.arrayContaining(['demo video added', 'demo accounts created', 'reelgate listening']),
    );
    for (const line of [...lines, ...first.stderr().split('\n')]) {
      for (const password of passwords.values()) expect(line).not.toContain(password);
    }
  });

  it('logs the malloc setting hint on glibc when started as plain node', () => {
    const hints = logLinesOf(first.stdout()).filter((line) => line.includes(`GLIBC_TUNABLES=${RECOMMENDED_GLIBC_TUNABLES}`));

    expect(hints).toHaveLength(runsOnGlibc ? 1 : 0);
  });

  it('lets the printed subscriber password log in and issues a playback grant', async () => {
    viewerCookie = await logIn(first.baseUrl, 'viewer@example.com', passwords.get('viewer@example.com')!);
    videoIds = await videoIdsOnCatalogue(first.baseUrl, viewerCookie);

    const grant = await fetch(`${first.baseUrl}/api/videos/${videoIds[0]}/playback`, { headers: { cookie: viewerCookie } });

    expect(videoIds).toHaveLength(2);
    expect(grant.status).toBe(200);
    const body = (await grant.json()) as { url: string; expiresAt: string };
    const media = await fetch(new URL(body.url, first.baseUrl), { headers: { cookie: viewerCookie, range: 'bytes=0-1' } });
    expect(media.status).toBe(206);
    expect(Buffer.from(await media.arrayBuffer())).toHaveLength(2);
  });

  it('still logs nothing secret after logins and playback', () => {
    for (const line of logLinesOf(first.stdout())) {
      for (const password of passwords.values()) expect(line).not.toContain(password);
      expect(line).not.toContain(viewerCookie.slice('reelgate.sid='.length));
    }
  });

  it('exits 0 on SIGTERM', async () => {
    const { code, signal } = await stopWith(first, 'SIGTERM');

    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(logLinesOf(first.stdout()).map((line) => (JSON.parse(line) as { msg: string }).msg)).toContain('stopped');
  });

  it('prints no passwords on a second start, and the old session cookie still works', async () => {
    const second = await startServer(dataDir);
    await waitUntilHealthy(second);

    const grant = await fetch(`${second.baseUrl}/api/videos/${videoIds[0]}/playback`, { headers: { cookie: viewerCookie } });

    expect(grant.status).toBe(200);
    expect(second.stdout()).not.toContain('These passwords are shown only this once');
    for (const password of passwords.values()) expect(second.stdout() + second.stderr()).not.toContain(password);
    expect(await videoIdsOnCatalogue(second.baseUrl, viewerCookie)).toEqual(videoIds);
    expect(await stopWith(second, 'SIGTERM')).toEqual({ code: 0, signal: null });
  });
});

describe('node dist/server.js with settings that stop it', () => {
  it('exits 1 naming MEDIA_URL_TTL_SECONDS when it is 3', async () => {
    const server = await startServer(tempDir(), { MEDIA_URL_TTL_SECONDS: '3' });

    const { code } = await exitOf(server);

    expect(code).toBe(1);
    expect(server.stderr()).toContain('MEDIA_URL_TTL_SECONDS must be at least 5 (got "3")');
    expect(server.stdout()).toBe('');
  });

  it('exits 1 naming SESSION_SECRET in production without secrets', async () => {
    const server = await startServer(tempDir(), { NODE_ENV: 'production' });

    const { code } = await exitOf(server);

    expect(code).toBe(1);
    expect(server.stderr()).toContain('SESSION_SECRET is missing');
    expect(server.stderr()).toContain('MEDIA_SIGNING_KEY is missing');
  });

  it('does not echo a short production secret', async () => {
    const server = await startServer(tempDir(), { NODE_ENV: 'production', SESSION_SECRET: 'hunter2-is-my-secret', MEDIA_SIGNING_KEY: 'another-short-one' });

    const { code } = await exitOf(server);

    expect(code).toBe(1);
    expect(server.stderr()).toContain('SESSION_SECRET is too short');
    expect(server.stderr()).not.toContain('hunter2-is-my-secret');
    expect(server.stderr()).not.toContain('another-short-one');
  });
});

describe('node dist/server.js without demo data', () => {
  async function startAndCheckNoDemo(env: Record<string, string>) {
    const server = await startServer(tempDir(), env);
    await waitUntilHealthy(server);

    const login = await fetch(`${server.baseUrl}/login`);
    expect(login.status).toBe(200);
    expect(server.stdout()).not.toContain('These passwords are shown only this once');
    expect(server.stdout()).not.toContain('@example.com');
    expect(logLinesOf(server.stdout()).map((line) => (JSON.parse(line) as { msg: string }).msg)).not.toContain('demo video added');
    expect(await stopWith(server, 'SIGTERM')).toEqual({ code: 0, signal: null });
    return server;
  }

  it('seeds nothing with SEED_DEMO=false', async () => {
    await startAndCheckNoDemo({ SEED_DEMO: 'false' });
  });

  it('logs no malloc setting hint with the start script environment', async () => {
    const server = await startAndCheckNoDemo({ SEED_DEMO: 'false', GLIBC_TUNABLES: RECOMMENDED_GLIBC_TUNABLES });

    expect(server.stdout()).toContain('reelgate listening');
    expect(server.stdout()).not.toContain('GLIBC_TUNABLES');
  });

  it('seeds nothing in production, even with SEED_DEMO=true', async () => {
    const server = await startAndCheckNoDemo({
      NODE_ENV: 'production',
      SEED_DEMO: 'true',
      SESSION_SECRET: 'f'.repeat(20) + 'g'.repeat(20),
      MEDIA_SIGNING_KEY: 'h'.repeat(20) + 'i'.repeat(20),
      PUBLIC_URL: 'https://videos.example.com',
      TRUST_PROXY: 'loopback',
    });

    expect(logLinesOf(server.stdout()).map((line) => (JSON.parse(line) as { msg: string }).msg)).toContain(
      'SEED_DEMO is ignored in production: no demo data is added',
    );
  });
});

describe('node dist/server.js with S3 and no bucket', () => {
  let s3: S3TestServer;

  beforeAll(async () => {
    s3 = await startS3Server('reelgate-existing');
  });

  afterAll(async () => {
    await s3?.stop();
  });

  it('names the missing bucket and starts without the demo', async () => {
    const server = await startServer(tempDir(), {
      STORAGE: 's3',
      S3_BUCKET: 'reelgate-never-created',
      S3_REGION: 'us-east-1',
      S3_ENDPOINT: s3.endpoint,
      S3_FORCE_PATH_STYLE: 'true',
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
    });
    await waitForLogLine(server, 'reelgate listening');

    const messages = logLinesOf(server.stdout()).map((line) => (JSON.parse(line) as { msg: string }).msg);
    expect(messages).toContain('the S3 bucket "reelgate-never-created" does not exist, so the demo catalogue was not added: create the bucket and start again');
    expect(server.stdout()).not.toContain('These passwords are shown only this once');
  });
});

/** Waits until the server has written a log line with this message, or fails with its output. */
async function waitForLogLine(server: ServerProcess, message: string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (server.stdout().includes(`"msg":"${message}"`)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no "${message}" log line within ${START_TIMEOUT_MS} ms.\nstdout:\n${server.stdout()}\nstderr:\n${server.stderr()}`);
}
