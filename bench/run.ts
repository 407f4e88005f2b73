import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';

import type { S3Config } from '../src/config.js';
import { S3Storage } from '../src/storage/s3-storage.js';
import { loginCookie } from '../test/helpers/http-login.js';
import { log, startApp, startChild, stopAllChildren, stopChild } from './bench-children.js';
import { checkGoals, printGoals } from './goals.js';
import { measureGrantCost } from './grant-cost.js';
import { measureGrantEndpoint } from './grant-endpoint.js';
import { describeMachine } from './machine.js';
import { measurePageLatency, pageExists, type PageLatencyResult } from './page-latency.js';
import { MEDIA, MEMORY_PLAN, PAGE_ROWS, PLAN } from './plan.js';
import { ADMIN_PAGE_MISSING, renderReport, type BenchResults } from './report.js';
import { measureStreaming } from './streaming-sets.js';

/*
 * `npm run bench`: measures grant signing, the grant endpoint, proxy streaming and two large pages in one
 * run on this machine, writes docs/benchmarks.md and prints PASS or MISS per goal. Every load is bounded in
 * time, all traffic stays on 127.0.0.1, and the child processes and their temporary directories are
 * removed at the end, also after an error.
 */

const REPORT_PATH = path.resolve(import.meta.dirname, '../docs/benchmarks.md');

interface S3rverReady {
  endpoint: string;
  bucket: string;
}

async function main(): Promise<void> {
  const startedAt = new Date();
  const machine = describeMachine();
  useS3rverCredentials();

  log('starting s3rver');
  const s3rver = await startChild<S3rverReady>('s3rver-process.ts', {});
  const s3Config: S3Config = {
    bucket: s3rver.ready.bucket,
    region: 'us-east-1',
    prefix: '',
    endpoint: s3rver.ready.endpoint,
    publicEndpoint: undefined,
    forcePathStyle: true,
    maxSockets: 16,
  };
  const s3Env = {
    STORAGE: 's3',
    S3_BUCKET: s3Config.bucket,
    S3_REGION: s3Config.region,
    S3_ENDPOINT: s3Config.endpoint!,
    S3_FORCE_PATH_STYLE: 'true',
    MEDIA_URL_TTL_SECONDS: '600',
  };

  log(`uploading a ${PLAN.objectMiB} MiB object of random bytes`);
  const storage = new S3Storage(s3Config);
  await storage.write(MEDIA.key, Readable.from([randomBytes(MEDIA.sizeBytes)]), { contentType: MEDIA.contentType, size: MEDIA.sizeBytes });

  log('timing one grant against one HMAC');
  const grantCost = await measureGrantCost(s3Config, { rounds: PLAN.costRounds, roundMs: PLAN.costRoundMs });

  log('loading the grant endpoint and the bare endpoint (S3 redirect delivery)');
  const redirectApp = await startApp({ ...s3Env, MEDIA_DELIVERY: 'redirect' }, 0);
  const redirectCookie = await loginCookie(redirectApp.ready.baseUrl, redirectApp.ready.subscriberEmail, redirectApp.ready.password);
  const grantEndpoint = await measureGrantEndpoint(
    { baseUrl: redirectApp.ready.baseUrl, videoId: redirectApp.ready.videoId, cookie: redirectCookie },
    { rounds: PLAN.loadRounds, roundSeconds: PLAN.loadRoundSeconds },
  );
  await stopChild(redirectApp);

  const streaming = await measureStreaming(storage, s3rver.pid, s3Env);
  await storage.close();

  log(`seeding ${PAGE_ROWS} videos and ${PAGE_ROWS} users, then loading the catalogue and the admin users page`);
  const pagesApp = await startApp({ ...s3Env, MEDIA_DELIVERY: 'redirect' }, PAGE_ROWS);
  const subscriberCookie = await loginCookie(pagesApp.ready.baseUrl, pagesApp.ready.subscriberEmail, pagesApp.ready.password);
  const adminCookie = await loginCookie(pagesApp.ready.baseUrl, pagesApp.ready.adminEmail, pagesApp.ready.password);
  const pagePlan = { rounds: PLAN.loadRounds, roundSeconds: PLAN.loadRoundSeconds };
  const catalogue = await measurePageLatency({ url: `${pagesApp.ready.baseUrl}/`, cookie: subscriberCookie }, pagePlan);
  const adminUsersUrl = `${pagesApp.ready.baseUrl}/admin/users`;
  let adminUsers: PageLatencyResult | undefined;
  if (await pageExists(adminUsersUrl, adminCookie)) {
    adminUsers = await measurePageLatency({ url: adminUsersUrl, cookie: adminCookie }, pagePlan);
  } else {
    log(ADMIN_PAGE_MISSING);
  }
  await stopChild(pagesApp);
  await stopChild(s3rver);

  const results: BenchResults = {
    machine,
    command: 'npm run bench',
    startedAt,
    durationSeconds: (Date.now() - startedAt.getTime()) / 1000,
    plan: PLAN,
    memoryPlan: MEMORY_PLAN,
    grantEndpoint,
    grantCost,
    ...streaming,
    catalogue,
    adminUsers,
    goals: checkGoals(grantEndpoint, grantCost, streaming),
  };

  fs.mkdirSync(path.dirname(REPORT_PATH), { recursive: true });
  fs.writeFileSync(REPORT_PATH, renderReport(results));
  printGoals(results.goals);
  log(`wrote ${path.relative(process.cwd(), REPORT_PATH)}`);
}

/** s3rver accepts only the access key id S3RVER; without credentials the SDK would ask the EC2 metadata endpoint. */
function useS3rverCredentials(): void {
  process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
  process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
  delete process.env.AWS_SESSION_TOKEN;
}

try {
  await main();
} finally {
  await stopAllChildren();
}
