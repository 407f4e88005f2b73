import type { AppContext } from '../http/context.js';
import { TranscodeWorker } from './transcode-worker.js';

/** Starts this instance's transcode worker, or returns undefined when TRANSCODE_CONCURRENCY is 0. */
export function startTranscodeWorker(context: AppContext): TranscodeWorker | undefined {
  const { config } = context;
  if (config.transcodeConcurrency === 0) {
    context.log.info('TRANSCODE_CONCURRENCY is 0: this instance runs no transcode jobs');
    return undefined;
  }

  const worker = new TranscodeWorker(
    { db: context.db, storage: context.storage, log: context.log, ffmpegPath: config.ffmpegPath, now: context.now },
    { concurrency: config.transcodeConcurrency, maxAttempts: config.transcodeMaxAttempts },
  );
  worker.start();
  return worker;
}
