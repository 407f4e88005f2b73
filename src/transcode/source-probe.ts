import { runFfmpeg } from './ffmpeg-process.js';

/** ffmpeg read the file but found no video stream in it (or could not read it at all). */
export class NoVideoStreamError extends Error {
  constructor(readonly ffmpegOutput: string) {
    super('ffmpeg found no video stream in the source');
    this.name = 'NoVideoStreamError';
  }
}

export interface SourceInfo {
  width: number;
  height: number;
  durationSeconds: number | null;
  hasAudio: boolean;
}

/** ffmpeg's input summary, e.g. "Duration: 00:00:20.00, start: ..." and "Stream #0:0[0x1](und): Video: h264 ..., 640x360 [SAR 1:1 ...]". */
const DURATION_LINE = /Duration: (\d+):(\d{2}):(\d{2}(?:\.\d+)?)/;
const VIDEO_STREAM_LINE = /Stream #\d+:\d+.*?: Video: .*?, (\d{2,5})x(\d{2,5})/;
const AUDIO_STREAM_LINE = /Stream #\d+:\d+.*?: Audio: /;

/**
 * Reads size, duration and audio presence from `ffmpeg -i FILE`, which prints the input summary and exits
 * with 1 because no output is given. This needs only ffmpeg, not ffprobe.
 */
export async function probeSource(ffmpegPath: string, filePath: string, signal?: AbortSignal): Promise<SourceInfo> {
  const run = await runFfmpeg(ffmpegPath, ['-hide_banner', '-nostdin', '-i', filePath], { signal });
  return parseSourceInfo(run.stderr);
}

export function parseSourceInfo(summary: string): SourceInfo {
  const video = VIDEO_STREAM_LINE.exec(summary);
  if (!video) throw new NoVideoStreamError(summary);

  const duration = DURATION_LINE.exec(summary);
  const durationSeconds = duration ? Number(duration[1]) * 3600 + Number(duration[2]) * 60 + Number(duration[3]) : null;
  return {
    width: Number(video[1]),
    height: Number(video[2]),
    durationSeconds: durationSeconds !== null && durationSeconds > 0 ? durationSeconds : null,
    hasAudio: AUDIO_STREAM_LINE.test(summary),
  };
}
