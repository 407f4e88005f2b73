import { FfmpegFailedError, FfmpegMissingError } from './ffmpeg-process.js';
import { NoVideoStreamError } from './source-probe.js';

export interface TranscodeFailure {
  /** Shown to admins on the video pages: what went wrong and what to do, without internal details. */
  summary: string;
  retryable: boolean;
  /** ffmpeg's last output, for the log only. */
  ffmpegOutput?: string;
}

export function describeTranscodeFailure(err: unknown): TranscodeFailure {
  if (err instanceof FfmpegMissingError) {
    return { summary: err.message, retryable: false };
  }
  if (err instanceof NoVideoStreamError) {
    return { summary: 'ffmpeg found no video stream in this file, so it cannot be converted to HLS. The original file still plays if browsers support it.', retryable: false, ffmpegOutput: err.ffmpegOutput };
  }
  if (err instanceof FfmpegFailedError) {
    return {
      summary: `ffmpeg could not convert this video (exit code ${err.exitCode}). The server log has ffmpeg's output.`,
      retryable: true,
      ffmpegOutput: err.stderrTail,
    };
  }
  return { summary: 'Transcoding failed unexpectedly, for example while reading from or writing to storage. The server log has the details.', retryable: true };
}
