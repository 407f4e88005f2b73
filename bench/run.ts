import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';

import type { S3Config } from '../src/config.js';
import { S3Storage } from '../src/storage/s3-storage.js';
import type { AppProcessOptions, AppProcessReady } from './app-process.js';
import { startBenchChild, type BenchChild } from './child-process.js';
import { measureGrantCost } from './grant-cost.js';
import { measureGrantEndpoint } from './grant-endpoint.js';
import { loginCookie } from './login.js';
import { describeMachine } from './machine.js';
import { measurePageLatency, pageExists, type PageLatencyResult } from './page-latency.js';
import { measureProxyMemory, measureProxyThroughput } from './proxy-streaming.js';
import { ADMIN_PAGE_MISSING, renderReport, type BenchResults, type Goal } from './report.js';

/*
 * `npm run bench`: measures grant signing, the grant endpoint, proxy streaming and two large pages in one
 * run on this machine, writes docs/benchmarks.md and prints PASS or MISS per goal. Every load is bounded in
 * time, all traffic stays on 127.0.0.1, and the child processes and their temporary directories are
 * removed at the end, also after an error.
 */

const PLAN = { loadRounds: 3, loadRoundSeconds: 5, costRounds: 15, costRoundMs: 200, streamRounds: 9, objectMiB: 48 };
const MEMORY_PLAN = { streams: 200, seconds: 5 };
const PAGE_ROWS = 10_000;
const MEDIA = { key: 'bench/random-48mib.mp4', sizeBytes: PLAN.objectMiB * 1024 ** 2, contentType: 'video/mp4' };
const REPORT_PATH = path.resolve(import.meta.dirname, '../docs/benchmarks.md');

interface S3rverReady {
  endpoint: string;
  bucket: string;
}

const children: BenchChild<unknown>[] = [];

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

  log('streaming through the proxy and straight from s3rver');
  const proxyApp = await startApp({ ...s3Env, MEDIA_DELIVERY: 'proxy' }, 0);
  const proxyCookie = await loginCookie(proxyApp.ready.baseUrl, proxyApp.ready.subscriberEmail, proxyApp.ready.password);
  const proxyUrl = await mediaUrlOf(proxyApp.ready, proxyCookie);
  const directUrl = await storage.presignRead(MEDIA.key, { expiresInSeconds: 600, contentType: MEDIA.contentType });
  const proxyThroughput = await measureProxyThroughput({ proxy: proxyUrl, direct: directUrl, cookie: proxyCookie }, { rounds: PLAN.streamRounds });
  log(`holding ${MEMORY_PLAN.streams} proxied streams open for ${MEMORY_PLAN.seconds} s`);
  const proxyMemory = await measureProxyMemory({ pid: proxyApp.pid, url: proxyUrl, cookie: proxyCookie }, MEMORY_PLAN);
  await stopChild(proxyApp);
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

  const partial = { grantEndpoint, grantCost, proxyThroughput, proxyMemory };
  const results: BenchResults = {
    machine,
    command: 'npm run bench',
    startedAt,
    durationSeconds: (Date.now() - startedAt.getTime()) / 1000,
    plan: PLAN,
    ...partial,
    catalogue,
    adminUsers,
    goals: checkGoals(partial),
  };

  fs.mkdirSync(path.dirname(REPORT_PATH), { recursive: true });
  fs.writeFileSync(REPORT_PATH, renderReport(results));
  printGoals(results.goals);
  log(`wrote ${path.relative(process.cwd(), REPORT_PATH)}`);
}

function checkGoals(results: Pick<BenchResults, 'grantEndpoint' | 'grantCost' | 'proxyThroughput' | 'proxyMemory'>): Goal[] {
  const growthMiB = results.proxyMemory.rssPeakMiB - results.proxyMemory.rssBeforeMiB;
  return [
    {
      name: 'Grant endpoint rate / bare endpoint rate',
      target: 'at least 0.6',
      measured: results.grantEndpoint.ratio.median.toFixed(2),
      met: results.grantEndpoint.ratio.median >= 0.6,
    },
    {
      name: 'One grant / one HMAC-SHA256',
      target: 'at most 3',
      measured: results.grantCost.ratio.median.toFixed(2),
      met: results.grantCost.ratio.median <= 3,
    },
    {
      name: 'Proxied throughput / direct throughput',
      target: 'at least 0.85',
      measured: results.proxyThroughput.ratio.median.toFixed(2),
      met: results.proxyThroughput.ratio.median >= 0.85,
    },
    {
      name: `App RSS growth with ${results.proxyMemory.streams} proxied streams`,
      target: 'under 64 MiB',
      measured: `${growthMiB.toFixed(0)} MiB`,
      met: growthMiB < 64 && results.proxyMemory.failedStreams === 0,
    },
  ];
}

async function startApp(env: Record<string, string>, pageRows: number): Promise<BenchChild<AppProcessReady>> {
  const options: AppProcessOptions = { env: { LOG_LEVEL: 'warn', ...env }, extraVideos: pageRows, extraUsers: pageRows, media: MEDIA };
  return startChild<AppProcessReady>('app-process.ts', options);
}

async function startChild<Ready>(script: string, options: unknown): Promise<BenchChild<Ready>> {
  const child = await startBenchChild<Ready>(script, options);
  children.push(child as BenchChild<unknown>);
  return child;
}

async function stopChild(child: BenchChild<unknown>): Promise<void> {
  await child.stop();
  children.splice(children.indexOf(child), 1);
}

/** Asks the proxy-mode app for a grant and returns the absolute /media URL it signed. */
async function mediaUrlOf(app: AppProcessReady, cookie: string): Promise<string> {
  const response = await fetch(`${app.baseUrl}/api/videos/${app.videoId}/playback`, { headers: { cookie } });
  const grant = (await response.json()) as { url?: string };
  if (response.status !== 200 || !grant.url?.startsWith('/media/')) {
    throw new Error(`The proxy-mode grant returned status ${response.status} without a /media URL`);
  }
  return `${app.baseUrl}${grant.url}`;
}

/** s3rver accepts only the access key id S3RVER; without credentials the SDK would ask the EC2 metadata endpoint. */
function useS3rverCredentials(): void {
  process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
  process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
  delete process.env.AWS_SESSION_TOKEN;
}

function printGoals(goals: Goal[]): void {
  for (const goal of goals) {
    console.log(`${goal.met ? 'PASS' : 'MISS'}  ${goal.name}: ${goal.measured} (target ${goal.target})`);
  }
}

function log(message: string): void {
  console.log(`[bench] ${message}`);
}

try {
  await main();
} finally {
  await Promise.allSettled(children.map((child) => child.stop()));
}
