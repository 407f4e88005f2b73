import { BARE_PATH } from './bare-route.js';
import { assertAllSucceeded, runLoadRound, type LoadTarget } from './load.js';
import { spreadOf, type Spread } from './stats.js';

export interface GrantEndpointResult {
  grant: Spread;
  bare: Spread;
  /** Per round, grant rate divided by the bare rate of the same round. */
  ratio: Spread;
}

const CONNECTIONS = 10;

/** Alternates bare and grant rounds so that drift on the machine affects both figures alike. */
export async function measureGrantEndpoint(
  app: { baseUrl: string; videoId: string; cookie: string },
  plan: { rounds: number; roundSeconds: number },
): Promise<GrantEndpointResult> {
  const headers = { cookie: app.cookie, 'sec-fetch-site': 'same-origin' };
  const bare: LoadTarget = { url: `${app.baseUrl}${BARE_PATH}`, headers, connections: CONNECTIONS };
  const grant: LoadTarget = { url: `${app.baseUrl}/api/videos/${app.videoId}/playback`, headers, connections: CONNECTIONS };

  await checkGrantResponse(grant);
  await runLoadRound(bare, 1);
  await runLoadRound(grant, 1);

  const bareRates: number[] = [];
  const grantRates: number[] = [];
  for (let round = 0; round < plan.rounds; round += 1) {
    const bareRound = await runLoadRound(bare, plan.roundSeconds);
    assertAllSucceeded('bare endpoint', bareRound);
    const grantRound = await runLoadRound(grant, plan.roundSeconds);
    assertAllSucceeded('grant endpoint', grantRound);

    bareRates.push(bareRound.requestsPerSecond);
    grantRates.push(grantRound.requestsPerSecond);
  }

  return {
    grant: spreadOf(grantRates),
    bare: spreadOf(bareRates),
    ratio: spreadOf(grantRates.map((rate, index) => rate / bareRates[index]!)),
  };
}

/** Checks once that the endpoint returns a presigned storage URL, so the rate measures S3 redirect mode. */
async function checkGrantResponse(target: LoadTarget): Promise<void> {
  const response = await fetch(target.url, { headers: target.headers });
  const body = (await response.json()) as { url?: string };
  if (response.status !== 200 || !body.url?.includes('X-Amz-Signature=')) {
    throw new Error(`The grant endpoint returned status ${response.status} without a presigned URL; is MEDIA_DELIVERY=redirect?`);
  }
}
