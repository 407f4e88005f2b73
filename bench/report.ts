import type { GrantCostResult } from './grant-cost.js';
import type { GrantEndpointResult } from './grant-endpoint.js';
import type { MachineInfo } from './machine.js';
import type { PageLatencyResult } from './page-latency.js';
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
  plan: { loadRounds: number; loadRoundSeconds: number; costRounds: number; costRoundMs: number; streamRounds: number; objectMiB: number };
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
  proxyThroughput: ProxyThroughputResult;
  proxyMemory: ProxyMemoryResult;
  /** The same throughput measurement with the app started without startEnv. */
  plainProxyThroughput: ProxyThroughputResult;
  /** Through bench/minimal-proxy-process.ts instead of the app, started with startEnv. */
  minimalProxyThroughput: ProxyThroughputResult;
  /** Through nginx in front of the app with MEDIA_OFFLOAD=nginx; undefined when nginx is not installed. */
  offloadThroughput: ProxyThroughputResult | undefined;
}

/** Proxied throughput divided by direct throughput that the benchmark aims for. */
export const PROXY_RATIO_GOAL = 0.85;

export const ADMIN_PAGE_MISSING = 'not yet measured: the admin users page is not merged';

export function renderReport(results: BenchResults): string {
  const { machine, plan } = results;
  const lines = [
    '# Benchmarks',
    '',
    `Measured by \`${results.command}\` (bench/run.ts) on ${results.startedAt.toISOString().slice(0, 10)}, in one run of ${Math.round(results.durationSeconds)} s on one machine:`,
    '',
    `- CPU: ${machine.cpuModel}, ${machine.cores} cores available to Node`,
    `- Memory: ${machine.memoryGiB} GiB`,
    `- Node.js ${machine.nodeVersion}, SQLite database, s3rver 3.7 as the S3 server`,
    `- 1-minute load average at the start: ${machine.loadAverage} (other processes were sharing the CPU when it is near or above the core count, which widens the spread)`,
    '',
    'Each figure is the median over several rounds, with the lowest and highest round in brackets. All traffic is on',
    'loopback (127.0.0.1). The app and s3rver each run in their own process, apart from the load generator',
    `(autocannon for request rates, bench/raw-download.ts and node:http for streaming). All three share the ${machine.cores} cores, so the`,
    'figures compare paths on this machine and are not capacity figures for a server.',
    '',
    '## Goals',
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
    `- **Proxy throughput**: the ${plan.objectMiB} MiB object of random bytes is downloaded whole, twice per round, for`,
    `  ${plan.streamRounds} rounds, once through \`GET /media/:id\` with MEDIA_DELIVERY=proxy and once from s3rver`,
    '  through a presigned URL, alternating. The client is bench/raw-download.ts, a plain HTTP/1.1 GET that reads',
    '  into one reused buffer, so that it costs little and the same on both paths. CPU seconds and minor page faults',
    '  per GiB come from /proc/<pid>/stat of the app and s3rver before and after each round, and from',
    '  `process.cpuUsage()` for the client. The whole set runs four times. The first two start the app with the',
    "  start script's variables and as plain `node`. The third puts the minimal proxy in place of the app. The",
    '  fourth puts nginx (one worker, the location from docs/deploy.md) in front of the app with',
    "  MEDIA_OFFLOAD=nginx, and its CPU figure is the sum of nginx's worker and the app.",
    `- **Proxy memory**: ${results.proxyMemory.streams} proxied downloads of that object run at once for`,
    `  ${results.proxyMemory.seconds} s, each read as fast as it arrives, then are aborted. The app process's VmRSS`,
    '  (from /proc) is read before and every 100 ms during the load.',
    `- **Pages**: autocannon with 2 connections for ${plan.loadRounds} rounds of ${plan.loadRoundSeconds} s, with`,
    '  10,000 published videos and 10,000 users (half with an active subscription) in the database.',
    '',
  ];
  return lines.join('\n');
}

function figureRows(results: BenchResults): string[] {
  const { grantEndpoint, grantCost, proxyThroughput, plainProxyThroughput, minimalProxyThroughput, offloadThroughput, proxyMemory, catalogue, adminUsers } = results;
  const rows: Row[] = [
    ['Grant endpoint, requests/s', formatSpread(grantEndpoint.grant), grantEndpoint.grant.rounds],
    ['Bare endpoint, requests/s', formatSpread(grantEndpoint.bare), grantEndpoint.bare.rounds],
    ['Grant endpoint / bare endpoint', formatSpread(grantEndpoint.ratio, 2), grantEndpoint.ratio.rounds],
    ['Floor: one HMAC-SHA256 with a cached key, ns', formatSpread(grantCost.floor), grantCost.floor.rounds],
    ['One grant (S3Storage.presignRead), ns', formatSpread(grantCost.grant), grantCost.grant.rounds],
    ['One getSignedUrl, ns', formatSpread(grantCost.sdk), grantCost.sdk.rounds],
    ['Grant / floor', formatSpread(grantCost.ratio, 2), grantCost.ratio.rounds],
    ['getSignedUrl / floor', formatSpread(grantCost.sdkRatio, 1), grantCost.sdkRatio.rounds],
    ...streamingRows(proxyThroughput, '', 'the app'),
    ...streamingRows(plainProxyThroughput, 'Plain `node`: ', 'the app'),
    ...streamingRows(minimalProxyThroughput, 'Minimal proxy: ', 'the minimal proxy'),
    ...(offloadThroughput ? streamingRows(offloadThroughput, 'MEDIA_OFFLOAD=nginx: ', 'nginx and the app') : []),
    [`App RSS before ${proxyMemory.streams} streams, MiB`, proxyMemory.rssBeforeMiB.toFixed(0), 1],
    [`App RSS peak during ${proxyMemory.streams} streams, MiB`, proxyMemory.rssPeakMiB.toFixed(0), 1],
    [`Bytes received by the ${proxyMemory.streams} streams in ${proxyMemory.seconds} s, MiB`, proxyMemory.receivedMiB.toFixed(0), 1],
    ['Streams that failed', String(proxyMemory.failedStreams), 1],
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

/** Explains the proxy throughput ratio from this run's CPU figures. */
function proxyRatioNotes(results: BenchResults): string[] {
  const { proxyThroughput: app, plainProxyThroughput: plain, minimalProxyThroughput: minimal, startEnv } = results;
  const cpu = (spread: Spread) => spread.median.toFixed(2);
  const relativeCost = (app.proxyCpu.app.median / minimal.proxyCpu.app.median).toFixed(2);
  const notes = [
    'About the proxy throughput ratio. A proxied byte is read from one loopback socket and written to another by',
    `a Node.js process, on the same ${results.machine.cores} cores that s3rver and the client use. Per GiB, the app spent ${cpu(app.proxyCpu.app)} CPU`,
    `seconds, a minimal Node.js proxy with no checks at all (bench/minimal-proxy-process.ts) ${cpu(minimal.proxyCpu.app)}, and s3rver`,
    `${cpu(app.directCpu.storage)} when serving directly. The app thus costs ${relativeCost} times what Node's own HTTP streaming costs, and the`,
    `minimal proxy reaches ${minimal.ratio.median.toFixed(2)} of direct here.`,
  ];
  if (app.ratio.median < PROXY_RATIO_GOAL) {
    notes.push(
      'What holds the ratio below the goal on this machine is the CPU that any Node.js proxy needs per byte while',
      'it shares the cores with the storage server and the client, not the session, signature and Range checks.',
    );
  }
  notes.push(
    'With the storage server on other machines, as S3 is, the app no longer competes with it for CPU, and the app',
    'figure above says how much proxying one core carries.',
  );
  if (results.offloadThroughput) {
    const offload = results.offloadThroughput;
    notes.push(
      '',
      `With MEDIA_OFFLOAD=nginx the app still checks every request, and nginx streams the bytes: nginx's worker and the`,
      `app together spent ${cpu(offload.proxyCpu.app)} CPU seconds per GiB, and the proxied path reached ${offload.ratio.median.toFixed(2)} of direct.`,
    );
  }

  const env = Object.entries(startEnv).map(([name, value]) => `\`${name}=${value}\``);
  if (env.length > 0) {
    notes.push(
      '',
      `The start script sets ${env.join(' ')}. It keeps glibc from handing freed heap memory back to`,
      'the kernel after each garbage collection, which the next socket reads would fault back in. Started without it,',
      `the app took ${Math.round(plain.proxyCpu.appFaults.median).toLocaleString('en-US')} minor page faults and ${cpu(plain.proxyCpu.app)} CPU seconds per GiB, and with it`,
      `${Math.round(app.proxyCpu.appFaults.median).toLocaleString('en-US')} and ${cpu(app.proxyCpu.app)}.`,
    );
  }
  return notes;
}
