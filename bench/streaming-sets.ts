import fs from 'node:fs';

import type { S3Storage } from '../src/storage/s3-storage.js';
import { loginCookie } from '../test/helpers/http-login.js';
import { NGINX_PATH, startNginx, TEST_OFFLOAD_SECRET } from '../test/helpers/nginx-server.js';
import type { AppProcessReady } from './app-process.js';
import { log, startApp, startChild, stopChild } from './bench-children.js';
import { PIN_FAILED, pinProcess, planCpuSplit, type CpuSplit } from './cpu-affinity.js';
import { MEDIA, MEMORY_PLAN, PLAN } from './plan.js';
import { measureProxyMemory, measureProxyThroughput, summarizeMemoryRounds, warmUp, type ProxyMemoryResult, type ProxyThroughputResult } from './proxy-streaming.js';
import type { StreamingResults } from './report.js';
import { startScriptEnvironment } from './start-environment.js';

export const NGINX_MISSING = `${NGINX_PATH} not found (apt-get install nginx-light)`;

/**
 * Measures proxied against direct throughput: with the app started as `npm start` starts it, as plain `node`
 * without the start script's variables, through a minimal Node.js proxy (the floor), and through nginx with
 * MEDIA_OFFLOAD=nginx. The first and the last run again with s3rver on a core of its own. Then the app's
 * memory under many proxied streams.
 */
export async function measureStreaming(storage: S3Storage, storagePid: number, s3Env: Record<string, string>): Promise<StreamingResults> {
  const directUrl = await storage.presignRead(MEDIA.key, { expiresInSeconds: 600, contentType: MEDIA.contentType });
  const streamPlan = { rounds: PLAN.streamRounds, downloadsPerRound: PLAN.downloadsPerRound };
  const throughputOf: ThroughputOf = (proxyUrl, cookie, proxyPids) =>
    measureProxyThroughput({ proxy: proxyUrl, direct: directUrl, cookie }, { proxy: proxyPids, storage: storagePid }, streamPlan);
  const cpuSplit = planCpuSplit();
  const onSplitCpus: OnSplitCpus = (proxyPids, measure) => measureOnSplitCpus(cpuSplit, { storage: storagePid, proxy: proxyPids }, measure);
  const startEnv = startScriptEnvironment();

  log(`streaming through the proxy and straight from s3rver, with the start script's ${describeEnv(startEnv)}`);
  const app = await startApp({ ...s3Env, MEDIA_DELIVERY: 'proxy' }, 0, startEnv);
  const { url, cookie } = await proxiedMedia(app.ready);
  const proxyThroughput = await throughputOf(url, cookie, [app.pid]);
  log('streaming again with s3rver on one core and the app and the client on the others');
  const splitProxyThroughput = await onSplitCpus([app.pid], () => throughputOf(url, cookie, [app.pid]));
  await stopChild(app);

  log('streaming with the app started as plain `node`, without those variables');
  const withoutStartEnv = Object.fromEntries(Object.keys(startEnv).map((name) => [name, undefined]));
  const plainApp = await startApp({ ...s3Env, MEDIA_DELIVERY: 'proxy' }, 0, withoutStartEnv);
  const plainMedia = await proxiedMedia(plainApp.ready);
  const plainProxyThroughput = await throughputOf(plainMedia.url, plainMedia.cookie, [plainApp.pid]);
  await stopChild(plainApp);

  log('streaming through a minimal Node.js proxy, with the start script\'s variables');
  const minimalProxy = await startChild<{ url: string }>('minimal-proxy-process.ts', { target: directUrl }, startEnv);
  const minimalProxyThroughput = await throughputOf(minimalProxy.ready.url, '', [minimalProxy.pid]);
  await stopChild(minimalProxy);

  const offload = await measureOffload(s3Env, startEnv, throughputOf, onSplitCpus);
  const proxyMemory = await measureMemory(s3Env, startEnv);

  return {
    startEnv,
    cpuSplit,
    proxyThroughput,
    splitProxyThroughput,
    proxyMemory,
    plainProxyThroughput,
    minimalProxyThroughput,
    offloadThroughput: offload?.shared,
    splitOffloadThroughput: offload?.split,
  };
}

type ThroughputOf = (proxyUrl: string, cookie: string, proxyPids: number[]) => Promise<ProxyThroughputResult>;
type OnSplitCpus = (proxyPids: number[], measure: () => Promise<ProxyThroughputResult>) => Promise<ProxyThroughputResult | undefined>;

/**
 * Runs `measure` with the storage server pinned to one CPU and the proxy processes and this process (the
 * client) to the others, then lets every process use all CPUs again. Returns undefined when the CPUs cannot
 * be split.
 */
async function measureOnSplitCpus(
  split: CpuSplit,
  pids: { storage: number; proxy: number[] },
  measure: () => Promise<ProxyThroughputResult>,
): Promise<ProxyThroughputResult | undefined> {
  if ('unavailable' in split) {
    log(`not measuring with s3rver on its own core: ${split.unavailable}`);
    return undefined;
  }

  const everyPid = [pids.storage, ...pids.proxy, process.pid];
  try {
    try {
      pinProcess(pids.storage, split.storage);
      for (const pid of [...pids.proxy, process.pid]) pinProcess(pid, split.rest);
    } catch (error) {
      log(`not measuring with s3rver on its own core: ${PIN_FAILED} (${(error as Error).message})`);
      return undefined;
    }
    return await measure();
  } finally {
    for (const pid of everyPid) {
      try {
        pinProcess(pid, split.all);
      } catch (error) {
        log(`failed to restore the CPU affinity of process ${pid}: ${(error as Error).message}`);
      }
    }
  }
}

/** Streams through nginx in front of the app with MEDIA_OFFLOAD=nginx, or returns undefined without nginx. */
async function measureOffload(
  s3Env: Record<string, string>,
  startEnv: Record<string, string>,
  throughputOf: ThroughputOf,
  onSplitCpus: OnSplitCpus,
): Promise<{ shared: ProxyThroughputResult; split: ProxyThroughputResult | undefined } | undefined> {
  if (!fs.existsSync(NGINX_PATH)) {
    log(`not measuring MEDIA_OFFLOAD=nginx: ${NGINX_MISSING}`);
    return undefined;
  }

  log('streaming through nginx with MEDIA_OFFLOAD=nginx, on shared cores and then with s3rver on its own core');
  const offloadEnv = { MEDIA_DELIVERY: 'proxy', MEDIA_OFFLOAD: 'nginx', MEDIA_OFFLOAD_SECRET: TEST_OFFLOAD_SECRET, TRUST_PROXY: '1' };
  const app = await startApp({ ...s3Env, ...offloadEnv }, 0, startEnv);
  const nginx = await startNginx(Number(new URL(app.ready.baseUrl).port));
  try {
    const { url, cookie } = await proxiedMedia(app.ready);
    const throughNginx = `${nginx.baseUrl}${new URL(url).pathname}${new URL(url).search}`;
    const proxyPids = [nginx.workerPid(), app.pid];
    const shared = await throughputOf(throughNginx, cookie, proxyPids);
    const split = await onSplitCpus(proxyPids, () => throughputOf(throughNginx, cookie, proxyPids));
    return { shared, split };
  } finally {
    await nginx.stop();
    await stopChild(app);
  }
}

/**
 * Holds MEMORY_PLAN.streams proxied downloads open, once per round, each round on a fresh app process that
 * first downloads the object a few times on its own so that its hot paths have run.
 */
async function measureMemory(s3Env: Record<string, string>, startEnv: Record<string, string>): Promise<ProxyMemoryResult> {
  const { rounds, streams, seconds, warmUpDownloads } = MEMORY_PLAN;
  log(`holding ${streams} proxied streams open for ${seconds} s, ${rounds} times, each on a fresh app process`);
  const results = [];
  for (let round = 0; round < rounds; round += 1) {
    const app = await startApp({ ...s3Env, MEDIA_DELIVERY: 'proxy' }, 0, startEnv);
    const { url, cookie } = await proxiedMedia(app.ready);
    await warmUp({ url, headers: { cookie } }, warmUpDownloads);
    results.push(await measureProxyMemory({ pid: app.pid, url, cookie }, { streams, seconds }));
    await stopChild(app);
  }
  return summarizeMemoryRounds(results);
}

/** Logs in as the subscriber and returns the signed /media URL of the proxy-mode grant with the session cookie. */
async function proxiedMedia(app: AppProcessReady): Promise<{ url: string; cookie: string }> {
  const cookie = await loginCookie(app.baseUrl, app.subscriberEmail, app.password);
  return { url: await mediaUrlOf(app, cookie), cookie };
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

function describeEnv(env: Record<string, string>): string {
  const assignments = Object.entries(env).map(([name, value]) => `${name}=${value}`);
  return assignments.length === 0 ? 'environment (none set)' : assignments.join(' ');
}
