// The goals that `npm run bench` checks, each with its target and the PASS or MISS printed at the end.

import type { ProxyThroughputResult } from './proxy-streaming.js';
import { PROXY_RATIO_GOAL, RSS_GROWTH_GOAL_MB, type BenchResults, type Goal, type StreamingResults } from './report.js';
import { PIN_FAILED } from './cpu-affinity.js';
import { NGINX_MISSING } from './streaming-sets.js';

export function checkGoals(grantEndpoint: BenchResults['grantEndpoint'], grantCost: BenchResults['grantCost'], streaming: StreamingResults): Goal[] {
  const { cpuSplit, proxyMemory } = streaming;
  const notSplit = `not measured: ${'unavailable' in cpuSplit ? cpuSplit.unavailable : PIN_FAILED}`;
  const noNginx = `not measured: ${NGINX_MISSING}`;
  return [
    {
      name: 'Grant endpoint rate / bare endpoint rate',
      target: 'at least 0.6',
      measured: grantEndpoint.ratio.median.toFixed(2),
      met: grantEndpoint.ratio.median >= 0.6,
    },
    {
      name: 'One grant / one HMAC-SHA256',
      target: 'at most 3',
      measured: grantCost.ratio.median.toFixed(2),
      met: grantCost.ratio.median <= 3,
    },
    proxyRatioGoal('Proxied / direct throughput, s3rver on its own core', streaming.splitProxyThroughput, notSplit),
    proxyRatioGoal('Proxied / direct throughput, s3rver on its own core, MEDIA_OFFLOAD=nginx', streaming.splitOffloadThroughput, streaming.offloadThroughput ? notSplit : noNginx),
    proxyRatioGoal('Proxied / direct throughput, all processes on shared cores', streaming.proxyThroughput),
    proxyRatioGoal('Proxied / direct throughput, all processes on shared cores, MEDIA_OFFLOAD=nginx', streaming.offloadThroughput, noNginx),
    {
      name: `App RSS growth with ${proxyMemory.streams} proxied streams`,
      target: `under ${RSS_GROWTH_GOAL_MB} MB (${(RSS_GROWTH_GOAL_MB * 1e6 / 1024 ** 2).toFixed(1)} MiB)`,
      measured: `${proxyMemory.growthMiB.median.toFixed(1)} MiB`,
      met: proxyMemory.growthMiB.median * 1024 ** 2 < RSS_GROWTH_GOAL_MB * 1e6 && proxyMemory.failedStreams === 0,
    },
  ];
}

function proxyRatioGoal(name: string, result: ProxyThroughputResult | undefined, whyMissing = 'not measured: the run did not reach it'): Goal {
  return {
    name,
    target: `at least ${PROXY_RATIO_GOAL}`,
    // Three decimals, so that a median just under the goal does not print as the goal itself.
    measured: result?.ratio.median.toFixed(3) ?? whyMissing,
    met: (result?.ratio.median ?? 0) >= PROXY_RATIO_GOAL,
  };
}

export function printGoals(goals: Goal[]): void {
  for (const goal of goals) {
    console.log(`${goal.met ? 'PASS' : 'MISS'}  ${goal.name}: ${goal.measured} (target ${goal.target})`);
  }
}
