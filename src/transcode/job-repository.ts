import type { Db } from '../db/database.js';
import type { TranscodeJobStatus, TranscodeJobsTable } from '../db/schema.js';
import { newId } from '../ids.js';

export interface TranscodeJob {
  id: string;
  videoId: string;
  status: TranscodeJobStatus;
  attempts: number;
  progress: number;
  error: string | null;
  lockedBy: string | null;
  heartbeatAt: string | null;
  createdAt: string;
  updatedAt: string;
}

/** How many queued jobs a worker tries in turn when other instances claim them first. */
const CLAIM_CANDIDATES = 5;

export async function enqueueTranscodeJob(db: Db, videoId: string, now: Date): Promise<TranscodeJob> {
  const at = now.toISOString();
  const row: TranscodeJobsTable = {
    id: newId(),
    video_id: videoId,
    status: 'queued',
    attempts: 0,
    progress: 0,
    error: null,
    locked_by: null,
    locked_at: null,
    heartbeat_at: null,
    created_at: at,
    updated_at: at,
  };
  await db.insertInto('transcode_jobs').values(row).execute();
  return toJob(row);
}

export async function findTranscodeJob(db: Db, id: string): Promise<TranscodeJob | undefined> {
  const row = await db.selectFrom('transcode_jobs').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toJob(row);
}

/** Finds the newest job of each of `videoIds`, keyed by video id. Videos never queued are absent. */
export async function findLatestJobs(db: Db, videoIds: string[]): Promise<Map<string, TranscodeJob>> {
  const latest = new Map<string, TranscodeJob>();
  if (videoIds.length === 0) return latest;

  const rows = await db.selectFrom('transcode_jobs').selectAll().where('video_id', 'in', videoIds).orderBy('created_at').orderBy('id').execute();
  for (const row of rows) latest.set(row.video_id, toJob(row));
  return latest;
}

/**
 * Claims the oldest queued job for `workerId`, or returns undefined when none is queued. The UPDATE only
 * matches while the row is still queued, so when two instances pick the same job, exactly one of them
 * changes a row (on SQLite and PostgreSQL alike) and the other moves on to the next candidate.
 */
export async function claimNextJob(db: Db, workerId: string, now: Date): Promise<TranscodeJob | undefined> {
  const candidates = await db
    .selectFrom('transcode_jobs')
    .select('id')
    .where('status', '=', 'queued')
    .orderBy('created_at')
    .orderBy('id')
    .limit(CLAIM_CANDIDATES)
    .execute();

  const at = now.toISOString();
  for (const { id } of candidates) {
    const result = await db
      .updateTable('transcode_jobs')
      .set((eb) => ({
        status: 'running',
        attempts: eb('attempts', '+', 1),
        progress: 0,
        locked_by: workerId,
        locked_at: at,
        heartbeat_at: at,
        updated_at: at,
      }))
      .where('id', '=', id)
      .where('status', '=', 'queued')
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 1) return findTranscodeJob(db, id);
  }
  return undefined;
}

/** Records progress and proves the worker is alive. Returns false when the job is no longer this worker's. */
export async function recordHeartbeat(db: Db, jobId: string, workerId: string, progress: number, now: Date): Promise<boolean> {
  const at = now.toISOString();
  const result = await db
    .updateTable('transcode_jobs')
    .set({ progress: Math.max(0, Math.min(100, Math.floor(progress))), heartbeat_at: at, updated_at: at })
    .where('id', '=', jobId)
    .where('locked_by', '=', workerId)
    .where('status', '=', 'running')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function completeJob(db: Db, jobId: string, workerId: string, now: Date): Promise<void> {
  const at = now.toISOString();
  await db
    .updateTable('transcode_jobs')
    .set({ status: 'done', progress: 100, error: null, locked_by: null, locked_at: null, heartbeat_at: null, updated_at: at })
    .where('id', '=', jobId)
    .where('locked_by', '=', workerId)
    .execute();
}

/**
 * Records a failed run. The job goes back to the queue while it has attempts left, and ends as failed
 * otherwise or when `retryable` is false (a missing ffmpeg or a deleted video does not fix itself).
 */
export async function failJob(
  db: Db,
  jobId: string,
  workerId: string,
  failure: { error: string; retryable: boolean; maxAttempts: number },
  now: Date,
): Promise<TranscodeJobStatus> {
  const job = await findTranscodeJob(db, jobId);
  const status: TranscodeJobStatus = failure.retryable && job !== undefined && job.attempts < failure.maxAttempts ? 'queued' : 'failed';

  await db
    .updateTable('transcode_jobs')
    .set({ status, error: failure.error, locked_by: null, locked_at: null, heartbeat_at: null, updated_at: now.toISOString() })
    .where('id', '=', jobId)
    .where('locked_by', '=', workerId)
    .execute();
  return status;
}

/** Puts a job that this worker stopped on purpose (a shutdown) back in the queue, without using up an attempt. */
export async function releaseJob(db: Db, jobId: string, workerId: string, now: Date): Promise<void> {
  await db
    .updateTable('transcode_jobs')
    .set((eb) => ({
      status: 'queued',
      attempts: eb('attempts', '-', 1),
      progress: 0,
      locked_by: null,
      locked_at: null,
      heartbeat_at: null,
      updated_at: now.toISOString(),
    }))
    .where('id', '=', jobId)
    .where('locked_by', '=', workerId)
    .where('status', '=', 'running')
    .execute();
}

/**
 * Requeues running jobs whose heartbeat is older than `staleBefore`: their worker died mid-way (a crash or
 * a kill), so no worker will finish them. The lost run counts as an attempt, so a job that kills its worker
 * every time ends as failed instead of looping. Returns the ids of the jobs requeued and failed.
 */
export async function recoverStaleJobs(
  db: Db,
  options: { staleBefore: Date; maxAttempts: number; now: Date },
): Promise<{ requeued: string[]; failed: string[] }> {
  const stale = await db
    .selectFrom('transcode_jobs')
    .select(['id', 'attempts', 'heartbeat_at'])
    .where('status', '=', 'running')
    .where('heartbeat_at', '<', options.staleBefore.toISOString())
    .execute();

  const recovered = { requeued: [] as string[], failed: [] as string[] };
  const at = options.now.toISOString();
  for (const job of stale) {
    const exhausted = job.attempts >= options.maxAttempts;
    const result = await db
      .updateTable('transcode_jobs')
      .set({
        status: exhausted ? 'failed' : 'queued',
        progress: 0,
        error: exhausted ? 'The server stopped during every attempt to transcode this video.' : null,
        locked_by: null,
        locked_at: null,
        heartbeat_at: null,
        updated_at: at,
      })
      .where('id', '=', job.id)
      .where('status', '=', 'running')
      // Matching the heartbeat read above keeps a job that its worker touched in the meantime running.
      .where('heartbeat_at', '=', job.heartbeat_at)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 1) (exhausted ? recovered.failed : recovered.requeued).push(job.id);
  }
  return recovered;
}

function toJob(row: TranscodeJobsTable): TranscodeJob {
  return {
    id: row.id,
    videoId: row.video_id,
    status: row.status,
    attempts: Number(row.attempts),
    progress: Number(row.progress),
    error: row.error,
    lockedBy: row.locked_by,
    heartbeatAt: row.heartbeat_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
