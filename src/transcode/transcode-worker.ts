import { randomBytes } from 'node:crypto';
import os from 'node:os';

import { findVideo } from '../videos/video-repository.js';
import { describeTranscodeFailure } from './failure-summary.js';
import { FfmpegAbortedError } from './ffmpeg-process.js';
import {
  claimNextJob,
  completeJob,
  failJob,
  recordHeartbeat,
  recoverStaleJobs,
  releaseJob,
  type TranscodeJob,
} from './job-repository.js';
import { transcodeVideo, type TranscodeServices } from './transcode-video.js';

export interface TranscodeWorkerOptions {
  /** Jobs this worker runs at the same time (TRANSCODE_CONCURRENCY). */
  concurrency: number;
  /** Runs per job before it ends as failed (TRANSCODE_MAX_ATTEMPTS). */
  maxAttempts: number;
  pollIntervalMs?: number;
  heartbeatIntervalMs?: number;
  /** A running job whose heartbeat is older than this belongs to a dead worker and is requeued. */
  staleAfterMs?: number;
  workerId?: string;
}

const DEFAULT_POLL_INTERVAL_MS = 2_000;
const DEFAULT_HEARTBEAT_INTERVAL_MS = 2_000;
// Many heartbeats long, so a busy event loop or a slow database write never makes a live job look dead.
const DEFAULT_STALE_AFTER_MS = 60_000;

interface ActiveJob {
  controller: AbortController;
  finished: Promise<void>;
}

/**
 * Runs queued transcode jobs inside the app process. Every poll it first requeues jobs left running by a
 * dead worker, then claims jobs up to its concurrency. Any number of instances can run one on the same
 * database, because claiming a job is a single conditional UPDATE.
 */
export class TranscodeWorker {
  readonly workerId: string;
  private readonly active = new Map<string, ActiveJob>();
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private stopping = false;

  constructor(
    private readonly services: TranscodeServices,
    private readonly options: TranscodeWorkerOptions,
  ) {
    this.workerId = options.workerId ?? `${os.hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  }

  start(): void {
    this.stopping = false;
    this.services.log.info({ workerId: this.workerId, concurrency: this.options.concurrency }, 'transcode worker started');
    this.schedule(0);
  }

  /** Stops polling, kills the ffmpeg of every running job and puts those jobs back in the queue. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    await this.polling;

    const running = [...this.active.values()];
    for (const job of running) job.controller.abort();
    await Promise.all(running.map((job) => job.finished));
    this.services.log.info({ workerId: this.workerId, released: running.length }, 'transcode worker stopped');
  }

  private schedule(delayMs: number): void {
    if (this.stopping) return;
    this.timer = setTimeout(() => {
      this.polling = this.poll().finally(() => {
        this.polling = undefined;
        this.schedule(this.options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS);
      });
    }, delayMs);
  }

  private async poll(): Promise<void> {
    const { db, log } = this.services;
    try {
      const now = this.services.now();
      const staleBefore = new Date(now.getTime() - (this.options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS));
      const recovered = await recoverStaleJobs(db, { staleBefore, maxAttempts: this.options.maxAttempts, now });
      if (recovered.requeued.length > 0) log.info({ jobIds: recovered.requeued }, 'requeued transcode jobs whose worker stopped mid-way');
      if (recovered.failed.length > 0) log.warn({ jobIds: recovered.failed }, 'transcode jobs failed: their worker stopped during every attempt');

      while (!this.stopping && this.active.size < this.options.concurrency) {
        const job = await claimNextJob(db, this.workerId, this.services.now());
        if (!job) break;
        this.begin(job);
      }
    } catch (err) {
      log.error({ err, workerId: this.workerId }, 'polling the transcode queue failed; trying again at the next poll');
    }
  }

  private begin(job: TranscodeJob): void {
    const controller = new AbortController();
    const finished = this.run(job, controller).finally(() => this.active.delete(job.id));
    this.active.set(job.id, { controller, finished });
  }

  private async run(job: TranscodeJob, controller: AbortController): Promise<void> {
    const { db, log } = this.services;
    const ids = { jobId: job.id, videoId: job.videoId, workerId: this.workerId };
    log.info({ ...ids, attempt: job.attempts }, 'transcode job started');

    let progress = 0;
    const heartbeat = setInterval(() => {
      recordHeartbeat(db, job.id, this.workerId, progress, this.services.now())
        .then((stillOurs) => {
          // Another instance requeued the job (this one looked dead to it), so this run is wasted work.
          if (!stillOurs) controller.abort();
        })
        .catch((err: unknown) => log.error({ err, ...ids }, 'recording transcode progress failed'));
    }, this.options.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS);

    try {
      const video = await findVideo(db, job.videoId);
      if (!video) {
        await failJob(db, job.id, this.workerId, { error: 'The video was deleted before it was transcoded.', retryable: false, maxAttempts: this.options.maxAttempts }, this.services.now());
        log.info(ids, 'transcode job failed: the video no longer exists');
        return;
      }

      await transcodeVideo(this.services, video, { signal: controller.signal, onProgress: (percent) => (progress = percent) });
      await completeJob(db, job.id, this.workerId, this.services.now());
      log.info(ids, 'transcode job done');
    } catch (err) {
      await this.settleFailure(job, err, controller.signal);
    } finally {
      clearInterval(heartbeat);
    }
  }

  private async settleFailure(job: TranscodeJob, err: unknown, signal: AbortSignal): Promise<void> {
    const { db, log } = this.services;
    const ids = { jobId: job.id, videoId: job.videoId, workerId: this.workerId };

    try {
      if (signal.aborted && (err instanceof FfmpegAbortedError || (err as Error).name === 'AbortError')) {
        if (this.stopping) {
          await releaseJob(db, job.id, this.workerId, this.services.now());
          log.info(ids, 'transcode job returned to the queue because the server is stopping');
        } else {
          log.warn(ids, 'transcode job stopped: another instance took it over after missed heartbeats');
        }
        return;
      }

      const failure = describeTranscodeFailure(err);
      log.error({ err, ...ids, ffmpegOutput: failure.ffmpegOutput }, 'transcode job failed');
      const status = await failJob(db, job.id, this.workerId, { error: failure.summary, retryable: failure.retryable, maxAttempts: this.options.maxAttempts }, this.services.now());
      log.info({ ...ids, status, attempt: job.attempts }, status === 'queued' ? 'transcode job queued for another attempt' : 'transcode job failed for good');
    } catch (recordErr) {
      log.error({ err: recordErr, ...ids }, 'recording the end of a transcode job failed; it is requeued once its heartbeat is stale');
    }
  }
}
