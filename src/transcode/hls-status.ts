import type { Video } from '../videos/video-repository.js';
import type { TranscodeJob } from './job-repository.js';

/** A video's HLS state as the admin pages show it. */
export interface HlsStatus {
  state: 'ready' | 'queued' | 'running' | 'failed' | 'none';
  /** e.g. "ready", "transcoding, 42 %", "failed after 3 attempts" */
  label: string;
  /** The last failure, written for admins; null when there is none. */
  error: string | null;
  /** True when an admin may queue a new transcode job: nothing is queued or running. */
  canRetry: boolean;
}

export function hlsStatusOf(video: Video, job: TranscodeJob | undefined): HlsStatus {
  const running = job?.status === 'queued' || job?.status === 'running';
  if (video.hlsMasterKey && !running) return { state: 'ready', label: 'ready', error: null, canRetry: true };
  if (!job) return { state: 'none', label: 'not transcoded: plays as MP4', error: null, canRetry: true };

  switch (job.status) {
    case 'queued':
      return { state: 'queued', label: job.attempts > 0 ? `queued for attempt ${job.attempts + 1}` : 'queued', error: job.error, canRetry: false };
    case 'running':
      return { state: 'running', label: `transcoding, ${job.progress} %`, error: job.error, canRetry: false };
    case 'failed':
      return { state: 'failed', label: `failed after ${job.attempts} ${job.attempts === 1 ? 'attempt' : 'attempts'}: plays as MP4`, error: job.error, canRetry: true };
    case 'done':
      return { state: 'ready', label: 'ready', error: null, canRetry: true };
  }
}
