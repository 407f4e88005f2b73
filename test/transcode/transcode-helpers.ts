import type { Db } from '../../src/db/database.js';
import type { AppContext } from '../../src/http/context.js';
import { transcodeVideo } from '../../src/transcode/transcode-video.js';
import { findVideo, type Video } from '../../src/videos/video-repository.js';
import type { TranscodeJobStatus } from '../../src/db/schema.js';
import { findTranscodeJob, type TranscodeJob } from '../../src/transcode/job-repository.js';

const JOB_TIMEOUT_MS = 25_000;

/** Polls the job until its status is one of `statuses`, for at most 25 s. */
export async function waitForJob(db: Db, jobId: string, statuses: TranscodeJobStatus[], timeoutMs = JOB_TIMEOUT_MS): Promise<TranscodeJob> {
  const deadline = Date.now() + timeoutMs;
  let job: TranscodeJob | undefined;
  while (Date.now() < deadline) {
    job = await findTranscodeJob(db, jobId);
    if (job && statuses.includes(job.status)) return job;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`job ${jobId} did not reach ${statuses.join(' or ')} within ${timeoutMs} ms; last seen ${JSON.stringify(job)}`);
}

/** Transcodes `video` in the test process with the real ffmpeg, as the worker would. */
export async function transcodeNow(context: AppContext, video: Video): Promise<Video> {
  await transcodeVideo({ db: context.db, storage: context.storage, log: context.log, ffmpegPath: 'ffmpeg', now: context.now }, video);
  return (await findVideo(context.db, video.id))!;
}

/** Lists the URIs of a playlist (URI lines and URI="..." attributes) in order. */
export function playlistUris(playlist: string): string[] {
  const uris: string[] = [];
  for (const line of playlist.split('\n').map((text) => text.trim())) {
    if (line === '') continue;
    if (!line.startsWith('#')) uris.push(line);
    for (const match of line.matchAll(/URI="([^"]*)"/g)) uris.push(match[1]!);
  }
  return uris;
}
