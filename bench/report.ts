import type { GrantCostResult } from './grant-cost.js';
import type { GrantEndpointResult } from './grant-endpoint.js';
import type { MachineInfo } from './machine.js';
import type { PageLatencyResult } from './page-latency.js';
import { PIN_FAILED, type CpuSplit } from './cpu-affinity.js';
import type { ProxyMemoryResult, ProxyThroughputResult } from './proxy-streaming.js';
import { formatSpread, type Spread } from './stats.js';

export interface Goal {
  name: string;
  target: string;
  measured: string;
  met: boolean;
}

export interface BenchResults extends StreamingResults {
  machine: MachineInfo;
  command: string;
  startedAt: Date;
  durationSeconds: number;
  plan: { loadRounds: number; loadRoundSeconds: number; costRounds: number; costRoundMs: number; streamRounds: number; downloadsPerRound: number; objectMiB: number };
  memoryPlan: { rounds: number; streams: number; seconds: number; warmUpDownloads: number };
  grantEndpoint: GrantEndpointResult;
  grantCost: GrantCostResult;
  catalogue: PageLatencyResult;
  /** Undefined when the admin users page did not exist in this build. */
  adminUsers: PageLatencyResult | undefined;
  goals: Goal[];
}

export interface StreamingResults {
  /** Variables that package.json's start script sets before node; proxyThroughput and proxyMemory ran with them. */
  startEnv: Record<string, string>;
  /** The CPUs that the "own core" figures gave s3rver and the other processes, or the reason there are none. */
  cpuSplit: CpuSplit;
  proxyThroughput: ProxyThroughputResult;
  /** proxyThroughput again with s3rver pinned to one CPU and the app and the client to the others. */
  splitProxyThroughput: ProxyThroughputResult | undefined;
  proxyMemory: ProxyMemoryResult;
  /** The same throughput measurement with the app started without startEnv. */
  plainProxyThroughput: ProxyThroughputResult;
  /** Through bench/minimal-proxy-process.ts instead of the app, started with startEnv. */
  minimalProxyThroughput: ProxyThroughputResult;
  /** Through nginx in front of the app with MEDIA_OFFLOAD=nginx; undefined when nginx is not installed. */
  offloadThroughput: ProxyThroughputResult | undefined;
  /** offloadThroughput with s3rver pinned to one CPU and nginx, the app and the client to the others. */
  splitOffloadThroughput: ProxyThroughputResult | undefined;
}

/** Proxied throughput divided by direct throughput that the benchmark aims for. */
export const PROXY_RATIO_GOAL = 0.85;

/** The limit, in megabytes of 10^6 bytes, for the app's RSS growth under the proxied streams of the memory rounds. */
export const RSS_GROWTH_GOAL_MB = 64;

export const ADMIN_PAGE_MISSING = 'not yet measured: the admin users page is not merged';

export function renderReport(results: BenchResults): string {
  const { machine, plan, memoryPlan } = results;
  const lines = [
    '# Benchmarks',
    '',
    `Measured by \`${results.command}\` (bench/run.ts) on ${results.startedAt.toISOString().slice(0, 10)}, in one run of ${Math.round(results.durationSeconds)} s on one machine:`,
    '',
    `- CPU: ${machine.cpuModel}, ${machine.cores} cores available to Node`,
    `- Memory: ${machine.memoryGiB} GiB`,
    `- Node.js ${machine.nodeVersion}, SQLite database, s3rver 3.7 as the S3 server`,
    `- 1-minute load average at the start: ${machine.loadAverage}, ${describeLoad(machine)}`,
    '',
    'Each figure is the median over several rounds, with the lowest and highest round in brackets. All traffic is on',
    'loopback (127.0.0.1). The app, s3rver and the load generator (autocannon for request rates, bench/raw-download.ts',
    `and node:http for streaming) each run in a process of their own. All three share the ${machine.cores} cores,`,
    'except in the streaming figures marked "s3rver on its own core". The figures compare paths on this machine and',
    'are not capacity figures for a server.',
    '',
    '## Goals',
    '',
    'The targets are the goals the project set for these figures. Figures vary from run to run, by more than the gap',
    'between some of them, so compare the spreads in the Figures table before reading much into a small difference.',
    '',
    '| Goal | Target | Measured (median) | Result |',
    '| --- | --- | --- | --- |',
    ...results.goals.map((goal) => `| ${goal.name} | ${goal.target} | ${goal.measured} | ${goal.met ? 'PASS' : 'MISS'} |`),
    '',
    ...proxyRatioNotes(results),
    '',
    '## Figures',
    '',
    '| Figure | Median (min to max) | Rounds |',
    '| --- | --- | --- |',
    ...figureRows(results),
    '',
    '## How each figure is measured',
    '',
    `- **Grant endpoint**: autocannon with 10 connections for ${plan.loadRounds} rounds of ${plan.loadRoundSeconds} s against`,
    '  `GET /api/videos/:id/playback` in S3 redirect delivery, logged in as a subscriber. The bare endpoint is a route',
    '  that returns a constant JSON, mounted by the harness after all of the app\'s middleware (logger, helmet, session,',
    '  current user, CSRF) and routers, just before the 404 handler. Bare and grant rounds alternate.',
    `- **Grant cost**: in the bench process, ${plan.costRounds} rounds of ${plan.costRoundMs} ms each of three operations.`,
    '  They are `S3Storage.presignRead` (an awaited call), `getSignedUrl` from @aws-sdk/s3-request-presigner for the same key',
    '  and overrides, and the',
    `  floor: one synchronous \`crypto.createHmac('sha256', signingKey)\` over a ${results.grantCost.stringToSignLength}-character SigV4 string to sign`,
    '  with a signing key derived beforehand and held as a KeyObject.',
    `- **Proxy throughput**: the ${plan.objectMiB} MiB object of random bytes is downloaded whole, ${plan.downloadsPerRound} times per round, for`,
    `  ${plan.streamRounds} rounds, once through \`GET /media/:id\` with MEDIA_DELIVERY=proxy and once from s3rver`,
    '  through a presigned URL, alternating. The client is bench/raw-download.ts, a plain HTTP/1.1 GET that reads',
    '  into one reused buffer, so that it costs little and the same on both paths. CPU seconds and minor page faults',
    '  per GiB come from /proc/<pid>/stat of the app and s3rver before and after each round, and from',
    '  `process.cpuUsage()` for the client. The whole set runs four times. The first two start the app with the',
    "  start script's variables and as plain `node`. The third puts the minimal proxy in place of the app. The",
    '  fourth puts nginx (one worker, the location from docs/deploy.md) in front of the app with',
    "  MEDIA_OFFLOAD=nginx, and its CPU figure is the sum of nginx's worker and the app. The first and the",
    '  fourth set run once more with s3rver on its own core (see above), pinned for the whole set.',
    `- **Proxy memory**: ${memoryPlan.streams} proxied downloads of that object run at once for`,
    `  ${memoryPlan.seconds} s, each read as fast as it arrives, then are aborted. The app process's VmRSS`,
    '  (from /proc) is read before and every 100 ms during the load. Each of the',
    `  ${memoryPlan.rounds} rounds starts a fresh app process with the start script's variables, which first downloads the object`,
    `  ${memoryPlan.warmUpDownloads} times on its own so that its hot paths have run. The goal is read as ${RSS_GROWTH_GOAL_MB} MB of 10^6 bytes each, the stricter of the two readings.`,
    `- **Pages**: autocannon with 2 connections for ${plan.loadRounds} rounds of ${plan.loadRoundSeconds} s, with`,
    '  10,000 published videos and 10,000 users (half with an active subscription) in the database.',
    '',
  ];
  return lines.join('\n');
}

function figureRows(results: BenchResults): string[] {
  const { grantEndpoint, grantCost, proxyThroughput, splitProxyThroughput, plainProxyThroughput, minimalProxyThroughput, offloadThroughput, splitOffloadThroughput, proxyMemory, catalogue, adminUsers } = results;
  const rows: Row[] = [
    ['Grant endpoint, requests/s', formatSpread(grantEndpoint.grant), grantEndpoint.grant.rounds],
    ['Bare endpoint, requests/s', formatSpread(grantEndpoint.bare), grantEndpoint.bare.rounds],
    ['Grant endpoint / bare endpoint', formatSpread(grantEndpoint.ratio, 2), grantEndpoint.ratio.rounds],
    ['Floor: one HMAC-SHA256 with a cached key, ns', formatSpread(grantCost.floor), grantCost.floor.rounds],
    ['One grant (S3Storage.presignRead), ns', formatSpread(grantCost.grant), grantCost.grant.rounds],
    ['One getSignedUrl, ns', formatSpread(grantCost.sdk), grantCost.sdk.rounds],
    ['Grant / floor', formatSpread(grantCost.ratio, 2), grantCost.ratio.rounds],
    ['getSignedUrl / floor', formatSpread(grantCost.sdkRatio, 1), grantCost.sdkRatio.rounds],
    ...streamingRows(proxyThroughput, 'Shared cores: ', 'the app'),
    ...(splitProxyThroughput ? streamingRows(splitProxyThroughput, 's3rver on its own core: ', 'the app') : []),
    ...streamingRows(plainProxyThroughput, 'Plain `node`: ', 'the app'),
    ...streamingRows(minimalProxyThroughput, 'Minimal proxy: ', 'the minimal proxy'),
    ...(offloadThroughput ? streamingRows(offloadThroughput, 'MEDIA_OFFLOAD=nginx: ', 'nginx and the app') : []),
    ...(splitOffloadThroughput ? streamingRows(splitOffloadThroughput, 'MEDIA_OFFLOAD=nginx, s3rver on its own core: ', 'nginx and the app') : []),
    [`App RSS before ${proxyMemory.streams} streams, MiB`, formatSpread(proxyMemory.rssBeforeMiB), proxyMemory.rssBeforeMiB.rounds],
    [`App RSS peak during ${proxyMemory.streams} streams, MiB`, formatSpread(proxyMemory.rssPeakMiB), proxyMemory.rssPeakMiB.rounds],
    [`App RSS growth with ${proxyMemory.streams} streams, MiB`, formatSpread(proxyMemory.growthMiB, 1), proxyMemory.growthMiB.rounds],
    [`Bytes received by the ${proxyMemory.streams} streams in ${proxyMemory.seconds} s, MiB`, formatSpread(proxyMemory.receivedMiB), proxyMemory.receivedMiB.rounds],
    ['Streams that failed, all rounds', String(proxyMemory.failedStreams), proxyMemory.growthMiB.rounds],
    ['`GET /` (10,000 videos), median latency, ms', formatSpread(catalogue.median, 1), catalogue.median.rounds],
    ['`GET /` (10,000 videos), p99 latency, ms', formatSpread(catalogue.p99, 1), catalogue.p99.rounds],
    ['`GET /` (10,000 videos), requests/s', formatSpread(catalogue.requestsPerSecond, 1), catalogue.requestsPerSecond.rounds],
  ];
  if (adminUsers) {
    rows.push(
      ['`GET /admin/users` (10,000 users), median latency, ms', formatSpread(adminUsers.median, 1), adminUsers.median.rounds],
      ['`GET /admin/users` (10,000 users), p99 latency, ms', formatSpread(adminUsers.p99, 1), adminUsers.p99.rounds],
      ['`GET /admin/users` (10,000 users), requests/s', formatSpread(adminUsers.requestsPerSecond, 1), adminUsers.requestsPerSecond.rounds],
    );
  } else {
    rows.push(['`GET /admin/users` (10,000 users)', ADMIN_PAGE_MISSING, 0]);
  }
  return rows.map(([name, value, rounds]) => `| ${name} | ${value} | ${rounds} |`);
}

type Row = [name: string, value: string, rounds: number];

/** Explains the "s3rver on its own core" figures, or why they are missing. */
function splitNotes(results: BenchResults): string[] {
  const { cpuSplit, splitProxyThroughput, splitOffloadThroughput } = results;
  if ('unavailable' in cpuSplit || !splitProxyThroughput) {
    return [`The "s3rver on its own core" figures were not measured: ${'unavailable' in cpuSplit ? cpuSplit.unavailable : PIN_FAILED}.`];
  }
  const ratio = (result: ProxyThroughputResult) => result.ratio.median.toFixed(2);
  const offload = splitOffloadThroughput ? `, and through nginx with MEDIA_OFFLOAD=nginx ${ratio(splitOffloadThroughput)}` : '';
  return [
    'About the proxy throughput ratios. In production S3 runs on machines of its own, so the storage server never',
    'takes CPU from the app. The "s3rver on its own core" figures model that on this machine: taskset pins s3rver',
    `to CPU ${cpuSplit.storage}, and the app (with nginx's worker, where used) and the client to CPU ${cpuSplit.rest}, for both the`,
    `proxied and the direct rounds. There the app-streamed path reached ${ratio(splitProxyThroughput)} of direct${offload}.`,
    ...paceNote(splitProxyThroughput),
    'The shared-core figures show the other case, where the storage server, the proxy and the client compete for the',
    'same cores.',
  ];
}

/** Says which core limited the app-streamed rounds with s3rver on its own core. */
function paceNote(result: ProxyThroughputResult): string[] {
  const storageBusy = busyPercent(result, 'storage');
  const proxyBusy = busyPercent(result, 'proxy');
  const lines = [`In the app-streamed rounds s3rver kept its core about ${storageBusy}% busy, and the app and the client together kept the other core about ${proxyBusy}% busy.`];
  if (storageBusy >= 90 && proxyBusy < 90) {
    lines.push(
      `So s3rver set the pace: it spent ${result.proxyCpu.storage.median.toFixed(2)} CPU seconds per GiB when the app read from it, against`,
      `${result.directCpu.storage.median.toFixed(2)} when the client read from it directly.`,
    );
  } else if (proxyBusy >= 90) {
    lines.push('So the core of the app and the client set the pace.');
  }
  return lines;
}

/** Estimates how busy the storage core or the other core was in the proxied rounds, from median CPU seconds per GiB and GiB/s. */
function busyPercent(result: ProxyThroughputResult, side: 'storage' | 'proxy'): number {
  const gibPerSecond = result.proxy.median / 1024;
  const cpuPerGiB = side === 'storage' ? result.proxyCpu.storage.median : result.proxyCpu.app.median + result.proxyCpu.client.median;
  return Math.round(cpuPerGiB * gibPerSecond * 100);
}

function streamingRows(result: ProxyThroughputResult, prefix: string, proxyName: string): Row[] {
  const cpu = (name: string, spread: Spread): Row => [`${prefix}${name}, CPU s per GiB`, formatSpread(spread, 2), spread.rounds];
  return [
    [`${prefix}Proxied download through ${proxyName}, MiB/s`, formatSpread(result.proxy), result.proxy.rounds],
    [`${prefix}Direct download from s3rver, MiB/s`, formatSpread(result.direct), result.direct.rounds],
    [`${prefix}Proxied / direct`, formatSpread(result.ratio, 2), result.ratio.rounds],
    cpu(`Proxied: ${proxyName}`, result.proxyCpu.app),
    [`${prefix}Proxied: ${proxyName}, minor page faults per GiB`, formatSpread(result.proxyCpu.appFaults), result.proxyCpu.appFaults.rounds],
    cpu('Proxied: s3rver', result.proxyCpu.storage),
    cpu('Proxied: client', result.proxyCpu.client),
    cpu('Direct: s3rver', result.directCpu.storage),
    cpu('Direct: client', result.directCpu.client),
  ];
}

/** Says whether other processes were likely sharing the CPU when the run started. */
function describeLoad(machine: MachineInfo): string {
  return machine.loadAverage >= machine.cores * 0.75
    ? 'near or above the core count, so other processes were sharing the CPU, which widens the spread'
    : 'well below the core count, so little else was running';
}

/** Explains the proxy throughput ratios from this run's CPU figures. */
function proxyRatioNotes(results: BenchResults): string[] {
  const { proxyThroughput: app, plainProxyThroughput: plain, minimalProxyThroughput: minimal, startEnv } = results;
  const cpu = (spread: Spread) => spread.median.toFixed(2);
  const relativeCost = (app.proxyCpu.app.median / minimal.proxyCpu.app.median).toFixed(2);
  const notes = [...splitNotes(results), ''];
  notes.push(
    `On shared cores, a proxied byte is read from one loopback socket and written to another by a Node.js process`,
    `on the same ${results.machine.cores} cores that s3rver and the client use. Per GiB, the app spent ${cpu(app.proxyCpu.app)} CPU seconds,`,
    `a minimal Node.js proxy with no checks at all (bench/minimal-proxy-process.ts) ${cpu(minimal.proxyCpu.app)}, and s3rver`,
    `${cpu(app.proxyCpu.storage)} when the app read from it (${cpu(app.directCpu.storage)} when the client did). The app thus costs ${relativeCost} times`,
    `what Node's own HTTP streaming costs. On shared cores the app reached ${app.ratio.median.toFixed(2)} of direct (rounds from`,
    `${app.ratio.min.toFixed(2)} to ${app.ratio.max.toFixed(2)}) and the minimal proxy ${minimal.ratio.median.toFixed(2)} (${minimal.ratio.min.toFixed(2)} to ${minimal.ratio.max.toFixed(2)}).`,
  );
  if (app.ratio.median < PROXY_RATIO_GOAL) {
    notes.push(
      'What holds the shared-core ratio below the goal is the CPU that any Node.js proxy needs per byte while it',
      'competes with the storage server and the client for the same cores, not the session, signature and Range checks.',
    );
  }
  if (results.offloadThroughput) {
    const offload = results.offloadThroughput;
    notes.push(
      '',
      `With MEDIA_OFFLOAD=nginx the app still checks every request, and nginx streams the bytes: nginx's worker and the`,
      `app together spent ${cpu(offload.proxyCpu.app)} CPU seconds per GiB, and the proxied path reached ${offload.ratio.median.toFixed(2)} of direct on shared cores.`,
    );
  }

  const env = Object.entries(startEnv).map(([name, value]) => `\`${name}=${value}\``);
  if (env.length > 0) {
    const faults = (result: ProxyThroughputResult) => Math.round(result.proxyCpu.appFaults.median).toLocaleString('en-US');
    const showedEffect = plain.proxyCpu.appFaults.median > 10 * Math.max(app.proxyCpu.appFaults.median, 1);
    notes.push(
      '',
      `The start script sets ${env.join(' ')}. It keeps glibc from handing freed heap memory back to`,
      'the kernel after each garbage collection, which the next socket reads would fault back in. Started without it,',
      `the app took ${faults(plain)} minor page faults and ${cpu(plain.proxyCpu.app)} CPU seconds per GiB, and with it`,
      `${faults(app)} and ${cpu(app.proxyCpu.app)}.`,
    );
    if (!showedEffect) {
      notes.push('In this run the two hardly differ. docs/deploy.md gives the gap that most runs show.');
    }
  }
  return notes;
}
