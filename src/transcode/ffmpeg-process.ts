import { spawn } from 'node:child_process';
import os from 'node:os';

/** ffmpeg could not be started at the configured path. */
export class FfmpegMissingError extends Error {
  constructor(readonly ffmpegPath: string) {
    super(`ffmpeg was not found at ${ffmpegPath}: install it (apt-get install ffmpeg) or set FFMPEG_PATH`);
    this.name = 'FfmpegMissingError';
  }
}

/** ffmpeg exited with an error. `stderrTail` is its last output, for the log only. */
export class FfmpegFailedError extends Error {
  constructor(
    readonly exitCode: number | null,
    readonly stderrTail: string,
  ) {
    super(`ffmpeg exited with code ${exitCode}`);
    this.name = 'FfmpegFailedError';
  }
}

export class FfmpegAbortedError extends Error {
  constructor() {
    super('ffmpeg was stopped');
    this.name = 'FfmpegAbortedError';
  }
}

/** Kept from ffmpeg's stderr for the log: enough for its error lines, bounded for a long run. */
const STDERR_TAIL_BYTES = 8 * 1024;

// A lower scheduling priority keeps the web requests of the same process responsive while ffmpeg runs.
const FFMPEG_NICENESS = 10;

export interface FfmpegRun {
  stderr: string;
  exitCode: number | null;
}

/**
 * Runs ffmpeg with `args` at a low priority and resolves with its exit code and stderr tail. `onStdoutLine`
 * receives each stdout line (the `-progress pipe:1` output). Aborting `signal` kills ffmpeg at once.
 * Rejects with FfmpegMissingError when the binary cannot be started.
 */
export function runFfmpeg(
  ffmpegPath: string,
  args: string[],
  options: { signal?: AbortSignal; onStdoutLine?: (line: string) => void } = {},
): Promise<FfmpegRun> {
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) return reject(new FfmpegAbortedError());

    const child = spawn(ffmpegPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let stdoutRest = '';

    const kill = () => child.kill('SIGKILL');
    options.signal?.addEventListener('abort', kill, { once: true });

    child.once('spawn', () => {
      try {
        if (child.pid !== undefined) os.setPriority(child.pid, FFMPEG_NICENESS);
      } catch {
        // Some containers forbid changing priorities; ffmpeg then runs at normal priority.
      }
    });

    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      const lines = (stdoutRest + text).split('\n');
      stdoutRest = lines.pop() ?? '';
      for (const line of lines) options.onStdoutLine?.(line.trim());
    });
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      stderr = (stderr + text).slice(-STDERR_TAIL_BYTES);
    });

    child.once('error', (err: NodeJS.ErrnoException) => {
      options.signal?.removeEventListener('abort', kill);
      reject(err.code === 'ENOENT' || err.code === 'EACCES' ? new FfmpegMissingError(ffmpegPath) : err);
    });
    child.once('close', (exitCode) => {
      options.signal?.removeEventListener('abort', kill);
      if (options.signal?.aborted) return reject(new FfmpegAbortedError());
      resolve({ stderr, exitCode });
    });
  });
}

/** Runs ffmpeg and rejects with FfmpegFailedError unless it exits with 0. */
export async function runFfmpegOrThrow(
  ffmpegPath: string,
  args: string[],
  options: { signal?: AbortSignal; onStdoutLine?: (line: string) => void } = {},
): Promise<void> {
  const run = await runFfmpeg(ffmpegPath, args, options);
  if (run.exitCode !== 0) throw new FfmpegFailedError(run.exitCode, run.stderr);
}
