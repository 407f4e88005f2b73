import autocannon from 'autocannon';

export interface LoadRound {
  requestsPerSecond: number;
  latencyMedianMs: number;
  latencyP99Ms: number;
  non2xx: number;
  errors: number;
}

export interface LoadTarget {
  url: string;
  headers: Record<string, string>;
  connections: number;
}

/** Runs one time-bounded autocannon round against a loopback URL. */
export async function runLoadRound(target: LoadTarget, durationSeconds: number): Promise<LoadRound> {
  if (!target.url.startsWith('http://127.0.0.1:')) throw new Error(`Refusing to load anything but loopback: ${target.url}`);

  const result = await autocannon({
    url: target.url,
    headers: target.headers,
    connections: target.connections,
    duration: durationSeconds,
  });
  return {
    requestsPerSecond: result.requests.average,
    latencyMedianMs: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

/** Fails a round whose requests did not all succeed, because its rate would measure the error path. */
export function assertAllSucceeded(name: string, round: LoadRound): void {
  if (round.non2xx > 0 || round.errors > 0) {
    throw new Error(`${name}: ${round.non2xx} responses were not 2xx and ${round.errors} requests failed; the figures would be wrong`);
  }
}
