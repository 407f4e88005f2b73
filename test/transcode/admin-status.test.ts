import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { claimNextJob, failJob, findLatestJobs, recordHeartbeat } from '../../src/transcode/job-repository.js';
import { addDemoVideo, addUser, createTestApp, csrfTokenFrom, loginAgent, type TestApp } from '../helpers/test-app.js';

const MISSING = 'ffmpeg was not found at /nowhere/ffmpeg: install it (apt-get install ffmpeg) or set FFMPEG_PATH';

let testApp: TestApp;

beforeEach(async () => {
  testApp = await createTestApp();
  await addUser(testApp, 'admin@example.com', { admin: true });
});

afterEach(async () => {
  await testApp.close();
});

describe('admin HLS status', () => {
  it('shows progress of a running job', async () => {
    const video = await addDemoVideo(testApp);
    const job = await claimNextJob(testApp.context.db, 'worker-a', new Date());
    await recordHeartbeat(testApp.context.db, job!.id, 'worker-a', 42, new Date());
    const admin = await loginAgent(testApp.app, 'admin@example.com');

    const list = await admin.get('/admin/videos').expect(200);
    const page = await admin.get(`/admin/videos/${video.id}`).expect(200);

    expect(list.text).toContain('<td class="hls-state hls-running">transcoding, 42 %</td>');
    expect(page.text).toContain('<dd class="hls-state hls-running">transcoding, 42 %</dd>');
    expect(page.text).not.toContain('Transcode to HLS again');
  });

  it('shows the error of a failed job and queues it again', async () => {
    const video = await addDemoVideo(testApp);
    const job = await claimNextJob(testApp.context.db, 'worker-a', new Date());
    await failJob(testApp.context.db, job!.id, 'worker-a', { error: MISSING, retryable: false, maxAttempts: 3 }, new Date());
    const admin = await loginAgent(testApp.app, 'admin@example.com');

    const page = await admin.get(`/admin/videos/${video.id}`).expect(200);
    expect(page.text).toContain('failed after 1 attempt: plays as MP4');
    expect(page.text).toContain(`<p class="error hls-error">Last transcoding error: ${MISSING}</p>`);
    expect((await admin.get('/admin/videos').expect(200)).text).toContain(`title="${MISSING}">failed after 1 attempt: plays as MP4</td>`);

    // The test clock is fixed, and the new job must be newer than the one addDemoVideo queued.
    testApp.clock.now = new Date(Date.now() + 1000);
    await admin.post(`/admin/videos/${video.id}/transcode`).type('form').send({ _csrf: csrfTokenFrom(page.text) }).expect(303);

    const latest = (await findLatestJobs(testApp.context.db, [video.id])).get(video.id);
    expect(latest).toMatchObject({ status: 'queued', attempts: 0, error: null });
    expect(latest!.id).not.toBe(job!.id);
    expect((await admin.get(`/admin/videos/${video.id}`).expect(200)).text).toContain('<dd class="hls-state hls-queued">queued</dd>');
  });
});
