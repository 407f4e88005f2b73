import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { findLatestJobs, findTranscodeJob } from '../../src/transcode/job-repository.js';
import { TranscodeWorker } from '../../src/transcode/transcode-worker.js';
import { findVideo } from '../../src/videos/video-repository.js';
import { addDemoVideo, createTestApp, type TestApp } from '../helpers/test-app.js';
import { databaseEnvFor } from '../helpers/test-database.js';
import { waitForJob } from './transcode-helpers.js';

const WORKER_SCRIPT = path.resolve(import.meta.dirname, 'worker-process.ts');

let testApp: TestApp | undefined;
let child: ChildProcess | undefined;
let worker: TranscodeWorker | undefined;

afterEach(async () => {
  if (child?.pid && child.exitCode === null && child.signalCode === null) process.kill(-child.pid, 'SIGKILL');
  await worker?.stop();
  await testApp?.close();
  child = worker = testApp = undefined;
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('transcode worker restart', () => {
  it('finishes a job whose worker was killed mid-way', async () => {
    testApp = await createTestApp();
    const video = await addDemoVideo(testApp);
    const [job] = (await findLatestJobs(testApp.context.db, [video.id])).values();

    // detached: the worker leads its own process group, so one kill reaches ffmpeg too.
    child = spawn(process.execPath, ['--import', 'tsx', WORKER_SCRIPT], {
      env: { ...process.env, NODE_ENV: 'test', DATA_DIR: testApp.dataDir, ...(await databaseEnvFor(testApp.dataDir)) },
      detached: true,
      stdio: 'ignore',
    });
    const exited = new Promise((resolve) => child!.once('exit', resolve));

    const deadline = Date.now() + 20_000;
    let running = await findTranscodeJob(testApp.context.db, job!.id);
    while (!(running?.status === 'running' && running.progress > 0) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      running = await findTranscodeJob(testApp.context.db, job!.id);
    }
    expect(running).toMatchObject({ status: 'running', attempts: 1 });
    expect(running!.progress).toBeGreaterThan(0);
    expect(running!.progress).toBeLessThan(100);

    process.kill(-child.pid!, 'SIGKILL');
    await exited;
    expect(isAlive(child.pid!)).toBe(false);
    expect(await findTranscodeJob(testApp.context.db, job!.id)).toMatchObject({ status: 'running', attempts: 1 });

    const { context } = testApp;
    worker = new TranscodeWorker(
      { db: context.db, storage: context.storage, log: context.log, ffmpegPath: 'ffmpeg', now: () => new Date() },
      { concurrency: 1, maxAttempts: 3, pollIntervalMs: 100, heartbeatIntervalMs: 200, staleAfterMs: 1_000 },
    );
    worker.start();
    const done = await waitForJob(context.db, job!.id, ['done', 'failed']);

    expect(done).toMatchObject({ status: 'done', attempts: 2, progress: 100, lockedBy: null });
    expect((await findVideo(context.db, video.id))?.hlsMasterKey).toBe(`hls/${video.id}/master.m3u8`);
  }, 60_000);
});
