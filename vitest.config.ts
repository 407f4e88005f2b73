import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

import pg from 'pg';
import { defineConfig } from 'vitest/config';

import { baseDatabaseUrl } from './test/helpers/test-database.js';

/*
 * Two projects: every test on SQLite, and the tests that touch the database again on PostgreSQL. Under
 * CI=true PostgreSQL is required; elsewhere, when it is not reachable, the PostgreSQL project is left out
 * and the run says so.
 */

const DATABASE_TESTS = [
  'test/routes/**/*.test.ts',
  'test/catalogue/**/*.test.ts',
  'test/auth/**/*.test.ts',
  'test/admin/**/*.test.ts',
  'test/db/**/*.test.ts',
  'test/cli/cli.test.ts',
  'test/playback/media-route.test.ts',
  'test/playback/s3-delivery.test.ts',
  'test/playback/proxy-delivery.test.ts',
  'test/playback/hls-*.test.ts',
  'test/transcode/**/*.test.ts',
];

/** Tests that run the real ffmpeg (transcoding, HLS playlists and playback). */
const FFMPEG_TESTS = [
  'test/transcode/transcode-worker.test.ts',
  'test/transcode/worker-restart.test.ts',
  'test/playback/hls-routes.test.ts',
  'test/playback/hls-s3-redirect.test.ts',
  'test/playback/nginx-offload-hls.test.ts',
  'test/e2e/hls.e2e.test.ts',
];

function ffmpegFound(): boolean {
  const result = spawnSync(process.env.FFMPEG_PATH ?? 'ffmpeg', ['-version'], { stdio: 'ignore', timeout: 10_000 });
  return result.status === 0;
}

async function postgresReachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: baseDatabaseUrl(), connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

// One id per run, handed to every worker, so each run creates and drops only its own PostgreSQL schemas.
const RUN_ID = randomBytes(4).toString('hex');
// The global setup runs in this process and reads the id from the environment.
process.env.REELGATE_TEST_RUN = RUN_ID;

export default defineConfig(async () => {
  const withPostgres = await postgresReachable();
  if (!withPostgres) {
    const message = `PostgreSQL at ${baseDatabaseUrl()} is not reachable`;
    if (process.env.CI === 'true') throw new Error(`${message}; CI requires it (set TEST_DATABASE_URL)`);
    process.stderr.write(`\n${message}: the PostgreSQL test suites were SKIPPED; only SQLite ran.\n\n`);
  }

  const withFfmpeg = ffmpegFound();
  if (!withFfmpeg) {
    const message = 'ffmpeg was not found on PATH (or at FFMPEG_PATH)';
    if (process.env.CI === 'true') throw new Error(`${message}; CI requires it (apt-get install ffmpeg)`);
    process.stderr.write(`\n${message}: the transcoding and HLS test files were SKIPPED (apt-get install ffmpeg).\n\n`);
  }
  const exclude = withFfmpeg ? [] : FFMPEG_TESTS;

  const shared = {
    environment: 'node' as const,
    // scrypt hashing, a real S3-compatible server and real server processes make some tests take seconds.
    testTimeout: 30_000,
    hookTimeout: 60_000,
  };
  return {
    test: {
      globalSetup: withPostgres ? ['test/helpers/postgres-global-setup.ts'] : [],
      projects: [
        { test: { ...shared, name: 'sqlite', include: ['test/**/*.test.ts'], exclude, env: { NODE_ENV: 'test', REELGATE_TEST_DB: 'sqlite', REELGATE_TEST_RUN: RUN_ID } } },
        ...(withPostgres
          ? [
              {
                test: {
                  ...shared,
                  name: 'postgres',
                  include: DATABASE_TESTS,
                  exclude,
                  env: { NODE_ENV: 'test', REELGATE_TEST_DB: 'postgres', REELGATE_TEST_RUN: RUN_ID },
                },
              },
            ]
          : []),
      ],
    },
  };
});
