import fs from 'node:fs';
import path from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { findLatestJobs, findTranscodeJob } from '../../src/transcode/job-repository.js';
import { TranscodeWorker, type TranscodeWorkerOptions } from '../../src/transcode/transcode-worker.js';
import { findVideo } from '../../src/videos/video-repository.js';
import { addDemoVideo, createTestApp, type TestApp } from '../helpers/test-app.js';
import { waitForJob } from './transcode-helpers.js';

let testApp: TestApp;
let worker: TranscodeWorker | undefined;

beforeEach(async () => {
  testApp = await createTestApp();
});

afterEach(async () => {
  await worker?.stop();
  worker = undefined;
  await testApp.close();
});

function startWorker(options: Partial<TranscodeWorkerOptions> & { ffmpegPath?: string } = {}): TranscodeWorker {
  const { context } = testApp;
  worker = new TranscodeWorker(
    { db: context.db, storage: context.storage, log: context.log, ffmpegPath: options.ffmpegPath ?? 'ffmpeg', now: context.now },
    { concurrency: 1, maxAttempts: 3, pollIntervalMs: 100, heartbeatIntervalMs: 200, ...options },
  );
  worker.start();
  return worker;
}

describe('transcode worker', () => {
  it('stores 240p and 360p renditions of a 360p video', async () => {
    const video = await addDemoVideo(testApp);
    const [job] = (await findLatestJobs(testApp.context.db, [video.id])).values();

    startWorker();
    const done = await waitForJob(testApp.context.db, job!.id, ['done', 'failed']);

    expect(done).toMatchObject({ status: 'done', progress: 100, attempts: 1, error: null, lockedBy: null });
    expect((await findVideo(testApp.context.db, video.id))?.hlsMasterKey).toBe(`hls/${video.id}/master.m3u8`);
    const keys = (await testApp.context.storage.list(`hls/${video.id}/`, { limit: 100 })).map((object) => object.key);
    expect(keys).toContain(`hls/${video.id}/master.m3u8`);
    expect(keys).toContain(`hls/${video.id}/240p/index.m3u8`);
    expect(keys).toContain(`hls/${video.id}/360p/index.m3u8`);
    // 20 s in 4 s segments.
    expect(keys.filter((key) => key.startsWith(`hls/${video.id}/360p/segment_`))).toHaveLength(5);
    const master = fs.readFileSync(path.join(testApp.dataDir, 'media', 'hls', video.id, 'master.m3u8'), 'utf8');
    expect(master).toContain('RESOLUTION=426x240');
    expect(master).toContain('RESOLUTION=640x360');
  });

  it('fails for good with a clear error when ffmpeg is missing', async () => {
    const video = await addDemoVideo(testApp);
    const [job] = (await findLatestJobs(testApp.context.db, [video.id])).values();

    startWorker({ ffmpegPath: '/nowhere/ffmpeg' });
    const failed = await waitForJob(testApp.context.db, job!.id, ['done', 'failed']);

    expect(failed).toMatchObject({ status: 'failed', attempts: 1 });
    expect(failed.error).toBe('ffmpeg was not found at /nowhere/ffmpeg: install it (apt-get install ffmpeg) or set FFMPEG_PATH');
    expect((await findVideo(testApp.context.db, video.id))?.hlsMasterKey).toBeNull();
  });

  it('retries a failing job up to the maximum attempts', async () => {
    const video = await addDemoVideo(testApp);
    const [job] = (await findLatestJobs(testApp.context.db, [video.id])).values();
    // A source that ffmpeg cannot decode past its header fails on every run.
    await testApp.context.storage.delete(video.storageKey);

    startWorker({ maxAttempts: 2 });
    const failed = await waitForJob(testApp.context.db, job!.id, ['failed']);

    expect(failed.attempts).toBe(2);
    expect(failed.error).toBe('Transcoding failed unexpectedly, for example while reading from or writing to storage. The server log has the details.');
    expect((await findTranscodeJob(testApp.context.db, job!.id))?.status).toBe('failed');
  });
});
