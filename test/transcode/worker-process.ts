import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { openServices } from '../../src/services.js';
import { TranscodeWorker } from '../../src/transcode/transcode-worker.js';

/*
 * A transcode worker in a process of its own, for the restart test: the test kills this whole process
 * group (worker and ffmpeg) with SIGKILL, as a crash or an OOM kill would. Configured by the environment.
 */

const config = loadConfig();
const services = await openServices(config);
const worker = new TranscodeWorker(
  { db: services.database.db, storage: services.storage, log: createLogger('silent'), ffmpegPath: config.ffmpegPath, now: () => new Date() },
  { concurrency: 1, maxAttempts: 3, pollIntervalMs: 100, heartbeatIntervalMs: 200 },
);
worker.start();
process.stdout.write(`worker ${worker.workerId} started\n`);
