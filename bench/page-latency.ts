import { assertAllSucceeded, runLoadRound } from './load.js';
import { spreadOf, type Spread } from './stats.js';

export interface PageLatencyResult {
  /** Milliseconds. */
  median: Spread;
  p99: Spread;
  requestsPerSecond: Spread;
}

// Few connections, so that the latency is mostly the page's own work and not queueing behind other requests.
const CONNECTIONS = 2;

export async function measurePageLatency(
  target: { url: string; cookie: string },
  plan: { rounds: number; roundSeconds: number },
): Promise<PageLatencyResult> {
  const load = { url: target.url, headers: { cookie: target.cookie }, connections: CONNECTIONS };
  await runLoadRound(load, 1);

  const medians: number[] = [];
  const p99s: number[] = [];
  const rates: number[] = [];
  for (let round = 0; round < plan.rounds; round += 1) {
    const result = await runLoadRound(load, plan.roundSeconds);
    assertAllSucceeded(new URL(target.url).pathname, result);
    medians.push(result.latencyMedianMs);
    p99s.push(result.latencyP99Ms);
    rates.push(result.requestsPerSecond);
  }
  return { median: spreadOf(medians), p99: spreadOf(p99s), requestsPerSecond: spreadOf(rates) };
}

/** Whether the page exists and renders for this session: 200, not a 404 or a redirect to the login form. */
export async function pageExists(url: string, cookie: string): Promise<boolean> {
  const response = await fetch(url, { headers: { cookie }, redirect: 'manual' });
  await response.arrayBuffer();
  return response.status === 200;
}
