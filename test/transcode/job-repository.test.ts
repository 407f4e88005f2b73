import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import {
  claimNextJob,
  completeJob,
  enqueueTranscodeJob,
  failJob,
  findTranscodeJob,
  recordHeartbeat,
  recoverStaleJobs,
  releaseJob,
} from '../../src/transcode/job-repository.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';

let testApp: TestApp;
const start = new Date('2026-12-04T10:00:00.000Z');
const later = (seconds: number) => new Date(start.getTime() + seconds * 1000);

beforeEach(async () => {
  testApp = await createTestApp();
});

afterEach(async () => {
  await testApp.close();
});

describe('transcode job queue', () => {
  it('lets one worker claim a job', async () => {
    const db = testApp.context.db;
    const job = await enqueueTranscodeJob(db, 'video1', start);

    const [first, second] = await Promise.all([claimNextJob(db, 'worker-a', later(1)), claimNextJob(db, 'worker-b', later(1))]);

    const winners = [first, second].filter((claimed) => claimed !== undefined);
    expect(winners).toHaveLength(1);
    expect(winners[0]).toMatchObject({ id: job.id, status: 'running', attempts: 1, heartbeatAt: later(1).toISOString() });
    expect(await claimNextJob(db, 'worker-c', later(2))).toBeUndefined();
  });

  it('claims the oldest job first', async () => {
    const db = testApp.context.db;
    const older = await enqueueTranscodeJob(db, 'video1', start);
    await enqueueTranscodeJob(db, 'video2', later(1));

    expect((await claimNextJob(db, 'worker-a', later(2)))?.id).toBe(older.id);
  });

  it('requeues a running job after its heartbeat goes stale', async () => {
    const db = testApp.context.db;
    const job = await enqueueTranscodeJob(db, 'video1', start);
    await claimNextJob(db, 'worker-a', start);
    expect(await recordHeartbeat(db, job.id, 'worker-a', 42.7, later(10))).toBe(true);

    const early = await recoverStaleJobs(db, { staleBefore: later(5), maxAttempts: 3, now: later(65) });
    expect(early).toEqual({ requeued: [], failed: [] });
    expect((await findTranscodeJob(db, job.id))?.progress).toBe(42);

    const recovered = await recoverStaleJobs(db, { staleBefore: later(11), maxAttempts: 3, now: later(71) });
    expect(recovered).toEqual({ requeued: [job.id], failed: [] });
    expect(await findTranscodeJob(db, job.id)).toMatchObject({ status: 'queued', attempts: 1, progress: 0, lockedBy: null });

    // The dead worker's late heartbeat no longer counts, and the job is free for another worker.
    expect(await recordHeartbeat(db, job.id, 'worker-a', 50, later(72))).toBe(false);
    expect(await claimNextJob(db, 'worker-b', later(73))).toMatchObject({ id: job.id, attempts: 2, lockedBy: 'worker-b' });
  });

  it('fails a stale job that used up its attempts', async () => {
    const db = testApp.context.db;
    const job = await enqueueTranscodeJob(db, 'video1', start);
    await claimNextJob(db, 'worker-a', start);

    const recovered = await recoverStaleJobs(db, { staleBefore: later(60), maxAttempts: 1, now: later(60) });

    expect(recovered).toEqual({ requeued: [], failed: [job.id] });
    expect(await findTranscodeJob(db, job.id)).toMatchObject({ status: 'failed', error: 'The server stopped during every attempt to transcode this video.' });
  });

  it('retries a failure until the attempts run out', async () => {
    const db = testApp.context.db;
    const job = await enqueueTranscodeJob(db, 'video1', start);
    const failure = { error: 'ffmpeg could not convert this video (exit code 1).', retryable: true, maxAttempts: 2 };

    await claimNextJob(db, 'worker-a', later(1));
    expect(await failJob(db, job.id, 'worker-a', failure, later(2))).toBe('queued');
    expect(await findTranscodeJob(db, job.id)).toMatchObject({ status: 'queued', attempts: 1, error: failure.error });

    await claimNextJob(db, 'worker-a', later(3));
    expect(await failJob(db, job.id, 'worker-a', failure, later(4))).toBe('failed');
    expect(await findTranscodeJob(db, job.id)).toMatchObject({ status: 'failed', attempts: 2, error: failure.error, lockedBy: null });
  });

  it('fails a job at once when retrying cannot help', async () => {
    const db = testApp.context.db;
    const job = await enqueueTranscodeJob(db, 'video1', start);
    await claimNextJob(db, 'worker-a', later(1));

    expect(await failJob(db, job.id, 'worker-a', { error: 'ffmpeg was not found', retryable: false, maxAttempts: 3 }, later(2))).toBe('failed');
  });

  it('returns a released job without using an attempt', async () => {
    const db = testApp.context.db;
    const job = await enqueueTranscodeJob(db, 'video1', start);
    await claimNextJob(db, 'worker-a', later(1));

    await releaseJob(db, job.id, 'worker-a', later(2));

    expect(await findTranscodeJob(db, job.id)).toMatchObject({ status: 'queued', attempts: 0, lockedBy: null });
  });

  it('completes only the claiming worker’s job', async () => {
    const db = testApp.context.db;
    const job = await enqueueTranscodeJob(db, 'video1', start);
    await claimNextJob(db, 'worker-a', later(1));

    await completeJob(db, job.id, 'worker-b', later(2));
    expect((await findTranscodeJob(db, job.id))?.status).toBe('running');

    await completeJob(db, job.id, 'worker-a', later(3));
    expect(await findTranscodeJob(db, job.id)).toMatchObject({ status: 'done', progress: 100 });
  });
});
