import { setMaxListeners } from 'node:events';
import http from 'node:http';

import { rssMiB } from './machine.js';
import { spreadOf, type Spread } from './stats.js';

export interface ProxyThroughputResult {
  /** MiB per second. */
  proxy: Spread;
  direct: Spread;
  /** Per round, proxied throughput divided by the direct throughput of the same round. */
  ratio: Spread;
}

export interface ProxyMemoryResult {
  streams: number;
  seconds: number;
  rssBeforeMiB: number;
  rssPeakMiB: number;
  /** Bytes all streams received together, to show that they were moving. */
  receivedMiB: number;
  /** Streams that failed before the time was up; a failure ends its stream early. */
  failedStreams: number;
}

const DOWNLOADS_PER_ROUND = 2;
const RSS_SAMPLE_MS = 100;

/** Alternates direct and proxied rounds; each round downloads the whole object DOWNLOADS_PER_ROUND times. */
export async function measureProxyThroughput(
  urls: { proxy: string; direct: string; cookie: string },
  plan: { rounds: number },
): Promise<ProxyThroughputResult> {
  const agent = new http.Agent({ keepAlive: true });
  const proxyRequest = { url: urls.proxy, headers: { cookie: urls.cookie } };
  const directRequest = { url: urls.direct, headers: {} };

  try {
    await downloadRate(proxyRequest, agent, 1);
    await downloadRate(directRequest, agent, 1);

    const proxy: number[] = [];
    const direct: number[] = [];
    for (let round = 0; round < plan.rounds; round += 1) {
      direct.push(await downloadRate(directRequest, agent, DOWNLOADS_PER_ROUND));
      proxy.push(await downloadRate(proxyRequest, agent, DOWNLOADS_PER_ROUND));
    }
    return { proxy: spreadOf(proxy), direct: spreadOf(direct), ratio: spreadOf(proxy.map((rate, index) => rate / direct[index]!)) };
  } finally {
    agent.destroy();
  }
}

/**
 * Opens `streams` proxied downloads at once, reads them as fast as they arrive for `seconds`, then aborts
 * them, sampling the app process's RSS the whole time. The load generator runs in this process, so its
 * own memory is not counted.
 */
export async function measureProxyMemory(
  app: { pid: number; url: string; cookie: string },
  plan: { streams: number; seconds: number },
): Promise<ProxyMemoryResult> {
  const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
  const rssBeforeMiB = rssMiB(app.pid);
  let rssPeakMiB = rssBeforeMiB;
  const sampler = setInterval(() => {
    rssPeakMiB = Math.max(rssPeakMiB, rssMiB(app.pid));
  }, RSS_SAMPLE_MS);

  const controller = new AbortController();
  // Every stream listens on the one signal, which is expected here and no leak.
  setMaxListeners(plan.streams + 1, controller.signal);
  const stopTimer = setTimeout(() => controller.abort(), plan.seconds * 1000);
  let receivedBytes = 0;
  const streams = Array.from({ length: plan.streams }, () =>
    readUntilAborted({ url: app.url, headers: { cookie: app.cookie } }, agent, controller.signal, (bytes) => (receivedBytes += bytes)),
  );

  try {
    const outcomes = await Promise.all(streams);
    return {
      streams: plan.streams,
      seconds: plan.seconds,
      rssBeforeMiB,
      rssPeakMiB,
      receivedMiB: receivedBytes / 1024 ** 2,
      failedStreams: outcomes.filter((outcome) => outcome === 'failed').length,
    };
  } finally {
    clearTimeout(stopTimer);
    clearInterval(sampler);
    agent.destroy();
  }
}

interface RequestTarget {
  url: string;
  headers: Record<string, string>;
}

async function downloadRate(target: RequestTarget, agent: http.Agent, downloads: number): Promise<number> {
  const start = process.hrtime.bigint();
  let bytes = 0;
  for (let i = 0; i < downloads; i += 1) bytes += await download(target, agent);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return bytes / 1024 ** 2 / seconds;
}

function download(target: RequestTarget, agent: http.Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.get(target.url, { agent, headers: target.headers }, (response) => {
      if (response.statusCode !== 200) {
        response.resume();
        reject(new Error(`GET ${new URL(target.url).pathname} returned status ${response.statusCode}`));
        return;
      }
      let bytes = 0;
      response.on('data', (chunk: Buffer) => (bytes += chunk.length));
      response.on('end', () => resolve(bytes));
      response.on('error', reject);
    });
    request.on('error', reject);
  });
}

function readUntilAborted(target: RequestTarget, agent: http.Agent, signal: AbortSignal, onBytes: (bytes: number) => void): Promise<'aborted' | 'ended' | 'failed'> {
  return new Promise((resolve) => {
    const request = http.get(target.url, { agent, headers: target.headers, signal }, (response) => {
      if (response.statusCode !== 200) {
        response.resume();
        resolve('failed');
        return;
      }
      response.on('data', (chunk: Buffer) => onBytes(chunk.length));
      response.on('end', () => resolve('ended'));
      response.on('error', () => resolve(signal.aborted ? 'aborted' : 'failed'));
    });
    request.on('error', () => resolve(signal.aborted ? 'aborted' : 'failed'));
  });
}
