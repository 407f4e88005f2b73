import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';

import { afterEach, describe, expect, it } from 'vitest';

import { insertVideo } from '../src/videos/video-repository.js';
import { builtFile } from './cli/built-dist.js';
import { PASSWORD, addUser, createTestApp, csrfTokenFrom } from './helpers/test-app.js';
import { databaseEnvFor } from './helpers/test-database.js';
import { freePort, withTimeout } from './helpers/local-process.js';

/*
 * Graceful shutdown of the real `node dist/server.js` (run `npm run build` first): a download that is in
 * flight when SIGTERM arrives still completes, and the process then exits with 0. Every wait is bounded.
 */

const VIDEO_SIZE = 32 * 1024 * 1024;
const START_TIMEOUT_MS = 20_000;
const EXIT_TIMEOUT_MS = 15_000;
const videoBytes = randomBytes(VIDEO_SIZE);

let child: ChildProcess | undefined;
let dataDir: string | undefined;

afterEach(async () => {
  if (child && child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child!.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
  child = undefined;
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  dataDir = undefined;
});



/** Fills a DATA_DIR with one subscriber and one 32 MiB video in local storage, then closes it. */
async function prepareDataDir(): Promise<{ dir: string; videoId: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgate-shutdown-'));
  const testApp = await createTestApp({}, dir);
  try {
    await addUser(testApp, 'sub@example.com', { subscription: { active: true } });
    const key = 'videos/shutdown/film.mp4';
    await testApp.context.storage.write(key, Readable.from([videoBytes]), { contentType: 'video/mp4' });
    const video = await insertVideo(testApp.context.db, {
      title: 'Shutdown', description: '', storageKey: key, contentType: 'video/mp4', sizeBytes: VIDEO_SIZE, durationSeconds: null, posterKey: null,
    });
    return { dir, videoId: video.id };
  } finally {
    await testApp.close();
  }
}

async function startServer(dir: string, port: number): Promise<{ process: ChildProcess; output: () => string; exited: Promise<number | null> }> {
  const started = spawn(process.execPath, [builtFile('server.js')], {
    cwd: dir,
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'development',
      DATA_DIR: dir,
      PORT: String(port),
      HOST: '127.0.0.1',
      SEED_DEMO: 'false',
      LOG_LEVEL: 'info',
      SHUTDOWN_GRACE_SECONDS: '30',
      ...(await databaseEnvFor(dir)),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  started.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  started.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => started.once('exit', (code) => resolve(code)));
  return { process: started, output: () => output, exited };
}

async function waitUntilHealthy(baseUrl: string, output: () => string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const status = await fetch(`${baseUrl}/healthz`).then((response) => response.status, () => 0);
    if (status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the server did not become healthy within ${START_TIMEOUT_MS} ms:\n${output()}`);
}

/** Logs in through the form and returns the session Cookie header value. */
async function logIn(baseUrl: string): Promise<string> {
  const page = await fetch(`${baseUrl}/login`);
  const preLoginCookie = page.headers.getSetCookie()[0]!.split(';')[0]!;
  const body = new URLSearchParams({ _csrf: csrfTokenFrom(await page.text()), email: 'sub@example.com', password: PASSWORD });

  const response = await fetch(`${baseUrl}/login`, { method: 'POST', body, headers: { Cookie: preLoginCookie }, redirect: 'manual' });
  expect(response.status).toBe(303);
  return response.headers.getSetCookie()[0]!.split(';')[0]!;
}

interface SlowDownload {
  status: number;
  /** Resumes reading and resolves with every byte of the body once it ends. */
  readRest(): Promise<Buffer>;
}

/** Starts a download and stops reading after the first chunk, so the server is left mid-response. */
function startSlowDownload(url: string, cookie: string): Promise<SlowDownload> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { headers: { Cookie: cookie }, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.once('data', (first: Buffer) => {
        chunks.push(first);
        response.pause();
        resolve({
          status: response.statusCode ?? 0,
          readRest: () =>
            new Promise((resolveBody, rejectBody) => {
              response.on('data', (chunk: Buffer) => chunks.push(chunk));
              response.once('end', () => resolveBody(Buffer.concat(chunks)));
              response.once('error', rejectBody);
              response.resume();
            }),
        });
      });
    });
    request.once('error', reject);
  });
}

describe('shutdown on SIGTERM', () => {
  it('finishes download, exits 0', async () => {
    const prepared = await prepareDataDir();
    dataDir = prepared.dir;
    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    const server = await startServer(prepared.dir, port);
    child = server.process;
    await waitUntilHealthy(baseUrl, server.output);

    const cookie = await logIn(baseUrl);
    const grant = await fetch(`${baseUrl}/api/videos/${prepared.videoId}/playback`, { headers: { Cookie: cookie } });
    const { url } = (await grant.json()) as { url: string };
    const download = await startSlowDownload(`${baseUrl}${url}`, cookie);

    server.process.kill('SIGTERM');
    await withTimeout(
      (async () => {
        while (!server.output().includes('shutting down')) await new Promise((resolve) => setTimeout(resolve, 50));
      })(),
      5000,
      'the server did not log "shutting down"',
    );
    const newConnection = await fetch(`${baseUrl}/healthz`).then((response) => response.status, (err: Error & { cause?: { code?: string } }) => err.cause?.code);
    const exitedBeforeDownloadEnded = server.process.exitCode;
    const body = await withTimeout(download.readRest(), EXIT_TIMEOUT_MS, 'the download did not finish');
    const exitCode = await withTimeout(server.exited, EXIT_TIMEOUT_MS, 'the server did not exit');

    expect(grant.status).toBe(200);
    expect(download.status).toBe(200);
    expect(newConnection).toBe('ECONNREFUSED');
    expect(exitedBeforeDownloadEnded).toBeNull();
    expect(body.length).toBe(VIDEO_SIZE);
    expect(Buffer.compare(body, videoBytes)).toBe(0);
    expect(exitCode).toBe(0);
    expect(server.output()).toContain('"msg":"stopped"');
    expect(server.output()).not.toContain('closing them');
  }, 60_000);
});
