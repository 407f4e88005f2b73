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
import { loginCookie } from '../test/helpers/http-login.js';
import { describeMachine } from './machine.js';
import { measurePageLatency, pageExists, type PageLatencyResult } from './page-latency.js';
import { NGINX_PATH, startNginx, TEST_OFFLOAD_SECRET } from '../test/helpers/nginx-server.js';
import { measureProxyMemory, measureProxyThroughput, type ProxyThroughputResult } from './proxy-streaming.js';
import { startScriptEnvironment } from './start-environment.js';
import { ADMIN_PAGE_MISSING, PROXY_RATIO_GOAL, renderReport, type BenchResults, type Goal, type StreamingResults } from './report.js';

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

  const partial = {
    grantEndpoint,
    grantCost,
    proxyThroughput: streaming.proxyThroughput,
    proxyMemory: streaming.proxyMemory,
    offloadThroughput: streaming.offloadThroughput,
  };
  const results: BenchResults = {
    machine,
    command: 'npm run bench',
    startedAt,
    durationSeconds: (Date.now() - startedAt.getTime()) / 1000,
    plan: PLAN,
    ...partial,
    ...streaming,
    catalogue,
    adminUsers,
    goals: checkGoals(partial),
  };

  fs.mkdirSync(path.dirname(REPORT_PATH), { recursive: true });
  fs.writeFileSync(REPORT_PATH, renderReport(results));
  printGoals(results.goals);
  log(`wrote ${path.relative(process.cwd(), REPORT_PATH)}`);
}

function checkGoals(results: Pick<BenchResults, 'grantEndpoint' | 'grantCost' | 'proxyThroughput' | 'proxyMemory' | 'offloadThroughput'>): Goal[] {
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
      target: `at least ${PROXY_RATIO_GOAL}`,
      measured: results.proxyThroughput.ratio.median.toFixed(2),
      met: results.proxyThroughput.ratio.median >= PROXY_RATIO_GOAL,
    },
    {
      name: 'Proxied throughput / direct throughput, MEDIA_OFFLOAD=nginx',
      target: `at least ${PROXY_RATIO_GOAL}`,
      measured: results.offloadThroughput?.ratio.median.toFixed(2) ?? 'not measured: nginx is not installed',
      met: (results.offloadThroughput?.ratio.median ?? 0) >= PROXY_RATIO_GOAL,
    },
    {
      name: `App RSS growth with ${results.proxyMemory.streams} proxied streams`,
      target: 'under 64 MiB',
      measured: `${growthMiB.toFixed(0)} MiB`,
      met: growthMiB < 64 && results.proxyMemory.failedStreams === 0,
    },
  ];
}

/**
 * Measures proxied against direct throughput four times: with the app started as `npm start` starts it,
 * as plain `node` without the start script's variables, through a minimal Node.js proxy (the floor), and
 * through nginx with MEDIA_OFFLOAD=nginx; then the app's memory under many proxied streams.
 */
async function measureStreaming(storage: S3Storage, storagePid: number, s3Env: Record<string, string>): Promise<StreamingResults> {
  const directUrl = await storage.presignRead(MEDIA.key, { expiresInSeconds: 600, contentType: MEDIA.contentType });
  const throughputOf = (proxyUrl: string, cookie: string, proxyPids: number[]) =>
    measureProxyThroughput({ proxy: proxyUrl, direct: directUrl, cookie }, { proxy: proxyPids, storage: storagePid }, { rounds: PLAN.streamRounds });
  const startEnv = startScriptEnvironment();

  log(`streaming through the proxy and straight from s3rver, with the start script's ${describeEnv(startEnv)}`);
  const app = await startApp({ ...s3Env, MEDIA_DELIVERY: 'proxy' }, 0, startEnv);
  const { url, cookie } = await proxiedMedia(app.ready);
  const proxyThroughput = await throughputOf(url, cookie, [app.pid]);
  log(`holding ${MEMORY_PLAN.streams} proxied streams open for ${MEMORY_PLAN.seconds} s`);
  const proxyMemory = await measureProxyMemory({ pid: app.pid, url, cookie }, MEMORY_PLAN);
  await stopChild(app);

  log('streaming again with the app started as plain `node`, without those variables');
  const withoutStartEnv = Object.fromEntries(Object.keys(startEnv).map((name) => [name, undefined]));
  const plainApp = await startApp({ ...s3Env, MEDIA_DELIVERY: 'proxy' }, 0, withoutStartEnv);
  const plainMedia = await proxiedMedia(plainApp.ready);
  const plainProxyThroughput = await throughputOf(plainMedia.url, plainMedia.cookie, [plainApp.pid]);
  await stopChild(plainApp);

  log('streaming through a minimal Node.js proxy, with the start script\'s variables');
  const minimalProxy = await startChild<{ url: string }>('minimal-proxy-process.ts', { target: directUrl }, startEnv);
  const minimalProxyThroughput = await throughputOf(minimalProxy.ready.url, '', [minimalProxy.pid]);
  await stopChild(minimalProxy);

  const offloadThroughput = await measureOffload(s3Env, startEnv, throughputOf);

  return { startEnv, proxyThroughput, proxyMemory, plainProxyThroughput, minimalProxyThroughput, offloadThroughput };
}

/** Streams through nginx in front of the app with MEDIA_OFFLOAD=nginx, or returns undefined without nginx. */
async function measureOffload(
  s3Env: Record<string, string>,
  startEnv: Record<string, string>,
  throughputOf: (proxyUrl: string, cookie: string, proxyPids: number[]) => Promise<ProxyThroughputResult>,
): Promise<ProxyThroughputResult | undefined> {
  if (!fs.existsSync(NGINX_PATH)) {
    log(`not measuring MEDIA_OFFLOAD=nginx: ${NGINX_PATH} not found (apt-get install nginx-light)`);
    return undefined;
  }

  log('streaming through nginx with MEDIA_OFFLOAD=nginx');
  const offloadEnv = { MEDIA_DELIVERY: 'proxy', MEDIA_OFFLOAD: 'nginx', MEDIA_OFFLOAD_SECRET: TEST_OFFLOAD_SECRET, TRUST_PROXY: '1' };
  const app = await startApp({ ...s3Env, ...offloadEnv }, 0, startEnv);
  const nginx = await startNginx(Number(new URL(app.ready.baseUrl).port));
  try {
    const { url, cookie } = await proxiedMedia(app.ready);
    const throughNginx = `${nginx.baseUrl}${new URL(url).pathname}${new URL(url).search}`;
    return await throughputOf(throughNginx, cookie, [nginx.workerPid(), app.pid]);
  } finally {
    await nginx.stop();
    await stopChild(app);
  }
}

/** Logs in as the subscriber and returns the signed /media URL of the proxy-mode grant with the session cookie. */
async function proxiedMedia(app: AppProcessReady): Promise<{ url: string; cookie: string }> {
  const cookie = await loginCookie(app.baseUrl, app.subscriberEmail, app.password);
  return { url: await mediaUrlOf(app, cookie), cookie };
}

/**
 * Starts an app process. `config` reaches the app as its configuration. `processEnv` goes into the process
 * environment before node starts, as a start script's variables do, because the C library reads some of
 * them only at start.
 */
async function startApp(config: Record<string, string>, pageRows: number, processEnv: Record<string, string | undefined> = {}): Promise<BenchChild<AppProcessReady>> {
  const options: AppProcessOptions = { env: { LOG_LEVEL: 'warn', ...config }, extraVideos: pageRows, extraUsers: pageRows, media: MEDIA };
  return startChild<AppProcessReady>('app-process.ts', options, processEnv);
}

async function startChild<Ready>(script: string, options: unknown, processEnv: Record<string, string | undefined> = {}): Promise<BenchChild<Ready>> {
  const child = await startBenchChild<Ready>(script, options, processEnv);
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

function describeEnv(env: Record<string, string>): string {
  const assignments = Object.entries(env).map(([name, value]) => `${name}=${value}`);
  return assignments.length === 0 ? 'environment (none set)' : assignments.join(' ');
}

function log(message: string): void {
  console.log(`[bench] ${message}`);
}

try {
  await main();
} finally {
  await Promise.allSettled(children.map((child) => child.stop()));
}
