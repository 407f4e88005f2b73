import { setMaxListeners } from 'node:events';
import http from 'node:http';

import { cpuSeconds, minorFaults, rssMiB } from './machine.js';
import { rawDownload } from './raw-download.js';
import { spreadOf, type Spread } from './stats.js';

/** The processes whose CPU time a throughput round records. */
export interface StreamPids {
  /** Every process on the proxied path besides storage: the app, or nginx's worker and the app. */
  proxy: number[];
  storage: number;
}

/** CPU seconds that each process spent per GiB downloaded, one value per round. */
export interface CpuPerGiB {
  /** The sum over StreamPids.proxy. */
  app: Spread;
  storage: Spread;
  client: Spread;
  /** Minor page faults of the app (or proxy) process per GiB. */
  appFaults: Spread;
}

export interface ProxyThroughputResult {
  /** MiB per second. */
  proxy: Spread;
  direct: Spread;
  /** Per round, proxied throughput divided by the direct throughput of the same round. */
  ratio: Spread;
  proxyCpu: CpuPerGiB;
  directCpu: CpuPerGiB;
}

/** One round of the memory measurement: one app process under `streams` concurrent proxied downloads. */
export interface ProxyMemoryRound {
  streams: number;
  seconds: number;
  rssBeforeMiB: number;
  rssPeakMiB: number;
  /** Bytes all streams received together, to show that they were moving. */
  receivedMiB: number;
  /** Streams that failed before the time was up; a failure ends its stream early. */
  failedStreams: number;
}

/** The memory rounds together, each on a fresh app process. */
export interface ProxyMemoryResult {
  streams: number;
  seconds: number;
  rssBeforeMiB: Spread;
  rssPeakMiB: Spread;
  /** The peak RSS minus the RSS before the streams, per round. */
  growthMiB: Spread;
  receivedMiB: Spread;
  /** The number of failed streams over all rounds. */
  failedStreams: number;
}

/** Reused by every sequential download of the throughput rounds. */
const readBuffer = Buffer.allocUnsafe(256 * 1024);
const RSS_SAMPLE_MS = 100;

/**
 * Alternates direct and proxied rounds. Each round downloads the whole object `downloadsPerRound` times and
 * records the CPU time that the app, the storage server and this process (the client) spent on it.
 */
export async function measureProxyThroughput(
  urls: { proxy: string; direct: string; cookie: string },
  pids: StreamPids,
  plan: { rounds: number; downloadsPerRound: number },
): Promise<ProxyThroughputResult> {
  const proxyHeaders: Record<string, string> = urls.cookie === '' ? {} : { cookie: urls.cookie };
  const proxyRequest = { url: urls.proxy, headers: proxyHeaders };
  const directRequest = { url: urls.direct, headers: {} };

  await downloadRound(proxyRequest, pids, 1);
  await downloadRound(directRequest, pids, 1);

  const proxy: Round[] = [];
  const direct: Round[] = [];
  for (let round = 0; round < plan.rounds; round += 1) {
    direct.push(await downloadRound(directRequest, pids, plan.downloadsPerRound));
    proxy.push(await downloadRound(proxyRequest, pids, plan.downloadsPerRound));
  }
  return {
    proxy: spreadOf(proxy.map((round) => round.mibPerSecond)),
    direct: spreadOf(direct.map((round) => round.mibPerSecond)),
    ratio: spreadOf(proxy.map((round, index) => round.mibPerSecond / direct[index]!.mibPerSecond)),
    proxyCpu: cpuSpreads(proxy),
    directCpu: cpuSpreads(direct),
  };
}

/**
 * Opens `streams` proxied downloads at once, reads them as fast as they arrive for `seconds`, then aborts
 * them, sampling the app process's RSS the whole time. The load generator runs in this process, so its
 * own memory is not counted.
 */
export async function measureProxyMemory(
  app: { pid: number; url: string; cookie: string },
  plan: { streams: number; seconds: number },
): Promise<ProxyMemoryRound> {
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

/** Combines memory rounds into spreads. */
export function summarizeMemoryRounds(rounds: ProxyMemoryRound[]): ProxyMemoryResult {
  const spread = (read: (round: ProxyMemoryRound) => number) => spreadOf(rounds.map(read));
  return {
    streams: rounds[0]!.streams,
    seconds: rounds[0]!.seconds,
    rssBeforeMiB: spread((round) => round.rssBeforeMiB),
    rssPeakMiB: spread((round) => round.rssPeakMiB),
    growthMiB: spread((round) => round.rssPeakMiB - round.rssBeforeMiB),
    receivedMiB: spread((round) => round.receivedMiB),
    failedStreams: rounds.reduce((total, round) => total + round.failedStreams, 0),
  };
}

/** Downloads the whole object `times` times, one after the other, so that a fresh process has run its hot paths. */
export async function warmUp(target: RequestTarget, times: number): Promise<void> {
  for (let i = 0; i < times; i += 1) await rawDownload(target, readBuffer);
}

export interface RequestTarget {
  url: string;
  headers: Record<string, string>;
}

interface Round {
  mibPerSecond: number;
  cpuPerGiB: { app: number; storage: number; client: number };
  appFaultsPerGiB: number;
}

async function downloadRound(target: RequestTarget, pids: StreamPids, downloads: number): Promise<Round> {
  const appCpuBefore = sumOver(pids.proxy, cpuSeconds);
  const appFaultsBefore = sumOver(pids.proxy, minorFaults);
  const storageCpuBefore = cpuSeconds(pids.storage);
  const clientCpuBefore = process.cpuUsage();
  const start = process.hrtime.bigint();

  let bytes = 0;
  for (let i = 0; i < downloads; i += 1) bytes += await rawDownload(target, readBuffer);

  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const clientCpu = process.cpuUsage(clientCpuBefore);
  const gib = bytes / 1024 ** 3;
  return {
    mibPerSecond: bytes / 1024 ** 2 / seconds,
    cpuPerGiB: {
      app: (sumOver(pids.proxy, cpuSeconds) - appCpuBefore) / gib,
      storage: (cpuSeconds(pids.storage) - storageCpuBefore) / gib,
      client: (clientCpu.user + clientCpu.system) / 1e6 / gib,
    },
    appFaultsPerGiB: (sumOver(pids.proxy, minorFaults) - appFaultsBefore) / gib,
  };
}

function sumOver(pids: number[], read: (pid: number) => number): number {
  return pids.reduce((total, pid) => total + read(pid), 0);
}

function cpuSpreads(rounds: Round[]): CpuPerGiB {
  return {
    app: spreadOf(rounds.map((round) => round.cpuPerGiB.app)),
    storage: spreadOf(rounds.map((round) => round.cpuPerGiB.storage)),
    client: spreadOf(rounds.map((round) => round.cpuPerGiB.client)),
    appFaults: spreadOf(rounds.map((round) => round.appFaultsPerGiB)),
  };
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
