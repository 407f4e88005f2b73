import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';

import type { Db } from '../db/database.js';
import type { Logger } from '../logger.js';
import type { Storage } from '../storage/storage.js';
import { setVideoDuration, setVideoHlsMaster, setVideoPoster, type Video } from '../videos/video-repository.js';
import { runFfmpegOrThrow } from './ffmpeg-process.js';
import { HLS_CONTENT_TYPES, hlsKeyPrefix, hlsMasterKey } from './hls-keys.js';
import { chooseRenditions, type Rendition } from './renditions.js';
import { probeSource, type SourceInfo } from './source-probe.js';

export interface TranscodeServices {
  db: Db;
  storage: Storage;
  log: Logger;
  ffmpegPath: string;
  now: () => Date;
}

/** Segment length in seconds, with a keyframe at each boundary so every segment starts cleanly. */
const SEGMENT_SECONDS = 4;
const MASTER_PLAYLIST = 'master.m3u8';

/**
 * Turns one video into HLS renditions with ffmpeg, stores them under hls/<videoId>/ with the master playlist
 * last, then marks the video as HLS-ready (and fills in its duration and poster when missing).
 * `onProgress` gets 0..100 as ffmpeg reports how far it has encoded.
 */
export async function transcodeVideo(
  services: TranscodeServices,
  video: Video,
  options: { signal?: AbortSignal; onProgress?: (percent: number) => void } = {},
): Promise<void> {
  const workDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'reelgate-hls-'));
  try {
    const sourcePath = path.join(workDir, 'source');
    await downloadSource(services.storage, video.storageKey, sourcePath, options.signal);

    const source = await probeSource(services.ffmpegPath, sourcePath, options.signal);
    const renditions = chooseRenditions(source.height);
    const outputDir = path.join(workDir, 'hls');
    await encodeHls(services.ffmpegPath, sourcePath, outputDir, { source, renditions, ...options });

    const posterPath = video.posterKey ? null : await extractPoster(services.ffmpegPath, sourcePath, workDir, source, options.signal);

    await uploadOutput(services.storage, video.id, outputDir);
    await recordResult(services, video, source, posterPath);
    services.log.info({ videoId: video.id, renditions: renditions.map((rendition) => rendition.name) }, 'HLS renditions stored');
  } finally {
    await fs.promises.rm(workDir, { recursive: true, force: true });
  }
}

async function downloadSource(storage: Storage, key: string, destination: string, signal?: AbortSignal): Promise<void> {
  const body = await storage.read(key, { signal });
  await pipeline(body, fs.createWriteStream(destination), { signal });
}

async function encodeHls(
  ffmpegPath: string,
  sourcePath: string,
  outputDir: string,
  job: { source: SourceInfo; renditions: Rendition[]; signal?: AbortSignal; onProgress?: (percent: number) => void },
): Promise<void> {
  await fs.promises.mkdir(outputDir, { recursive: true });
  const args = hlsArguments(sourcePath, outputDir, job.source, job.renditions);

  const durationSeconds = job.source.durationSeconds;
  await runFfmpegOrThrow(ffmpegPath, args, {
    signal: job.signal,
    onStdoutLine: (line) => {
      const encodedSeconds = encodedSecondsOf(line);
      if (encodedSeconds !== null && durationSeconds) job.onProgress?.(Math.min(99, (encodedSeconds / durationSeconds) * 100));
    },
  });
}

/** Builds the ffmpeg arguments for one run that decodes the source once and encodes every rendition from it. */
export function hlsArguments(sourcePath: string, outputDir: string, source: SourceInfo, renditions: Rendition[]): string[] {
  const scaled = renditions.map((rendition, index) => `[s${index}]scale=-2:${rendition.height}[v${index}]`);
  const splitOutputs = renditions.map((_rendition, index) => `[s${index}]`).join('');
  const filter = [`[0:v]split=${renditions.length}${splitOutputs}`, ...scaled].join(';');

  const args = ['-hide_banner', '-nostdin', '-y', '-i', sourcePath, '-filter_complex', filter];
  renditions.forEach((_rendition, index) => {
    args.push('-map', `[v${index}]`);
    if (source.hasAudio) args.push('-map', '0:a:0');
  });

  args.push(
    '-c:v', 'libx264', '-preset', 'veryfast', '-profile:v', 'main', '-pix_fmt', 'yuv420p',
    // A keyframe exactly every SEGMENT_SECONDS and none at scene cuts, so segments line up across renditions.
    '-force_key_frames', `expr:gte(t,n_forced*${SEGMENT_SECONDS})`, '-sc_threshold', '0',
  );
  renditions.forEach((rendition, index) => {
    args.push(`-b:v:${index}`, `${rendition.videoKbps}k`, `-maxrate:v:${index}`, `${Math.round(rendition.videoKbps * 1.1)}k`);
    args.push(`-bufsize:v:${index}`, `${rendition.videoKbps * 2}k`);
    if (source.hasAudio) args.push(`-b:a:${index}`, `${rendition.audioKbps}k`);
  });
  if (source.hasAudio) args.push('-c:a', 'aac', '-ac', '2');

  const streamMap = renditions
    .map((rendition, index) => (source.hasAudio ? `v:${index},a:${index},name:${rendition.name}` : `v:${index},name:${rendition.name}`))
    .join(' ');
  args.push(
    '-f', 'hls', '-hls_time', String(SEGMENT_SECONDS), '-hls_playlist_type', 'vod', '-hls_list_size', '0',
    '-hls_flags', 'independent_segments',
    '-hls_segment_filename', path.join(outputDir, '%v', 'segment_%03d.ts'),
    '-master_pl_name', MASTER_PLAYLIST, '-var_stream_map', streamMap,
    '-progress', 'pipe:1', '-nostats',
    path.join(outputDir, '%v', 'index.m3u8'),
  );
  return args;
}

/** Reads "out_time_us=12345678" from ffmpeg's -progress output; null for other lines and "N/A". */
export function encodedSecondsOf(progressLine: string): number | null {
  const match = /^out_time_us=(\d+)$/.exec(progressLine);
  return match ? Number(match[1]) / 1_000_000 : null;
}

async function extractPoster(ffmpegPath: string, sourcePath: string, workDir: string, source: SourceInfo, signal?: AbortSignal): Promise<string> {
  const posterPath = path.join(workDir, 'poster.jpg');
  // A frame a little way in: the first frame of many videos is black.
  const at = source.durationSeconds ? Math.min(2, source.durationSeconds / 3) : 0;
  await runFfmpegOrThrow(ffmpegPath, ['-hide_banner', '-nostdin', '-y', '-ss', at.toFixed(2), '-i', sourcePath, '-frames:v', '1', '-q:v', '3', posterPath], { signal });
  return posterPath;
}

/** Uploads every file under `outputDir`; the master playlist goes last, so it never names a missing object. */
async function uploadOutput(storage: Storage, videoId: string, outputDir: string): Promise<void> {
  const files = (await listFiles(outputDir)).sort((a, b) => Number(a === MASTER_PLAYLIST) - Number(b === MASTER_PLAYLIST));

  for (const relative of files) {
    const filePath = path.join(outputDir, relative);
    const contentType = HLS_CONTENT_TYPES[path.extname(relative)] ?? 'application/octet-stream';
    const { size } = await fs.promises.stat(filePath);
    await storage.write(`${hlsKeyPrefix(videoId)}${relative}`, fs.createReadStream(filePath), { contentType, size });
  }
}

/** Paths of every file under `dir`, relative to it and with "/" separators. */
async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await fs.promises.readdir(path.join(dir, prefix), { withFileTypes: true })) {
    const relative = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) files.push(...(await listFiles(dir, relative)));
    else if (entry.isFile()) files.push(relative);
  }
  return files;
}

// NOTE: a video deleted while its job runs leaves these objects in storage: the updates below then change no row.
async function recordResult(services: TranscodeServices, video: Video, source: SourceInfo, posterPath: string | null): Promise<void> {
  const now = services.now();

  if (posterPath) {
    const posterKey = `posters/${video.id}-frame.jpg`;
    const { size } = await fs.promises.stat(posterPath);
    await services.storage.write(posterKey, fs.createReadStream(posterPath), { contentType: 'image/jpeg', size });
    await setVideoPoster(services.db, video.id, posterKey, now);
  }
  if (video.durationSeconds === null && source.durationSeconds !== null) {
    await setVideoDuration(services.db, video.id, source.durationSeconds, now);
  }
  await setVideoHlsMaster(services.db, video.id, hlsMasterKey(video.id), now);
}
