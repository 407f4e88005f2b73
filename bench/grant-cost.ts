import { createHmac, createSecretKey } from 'node:crypto';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';

import { createApiClient, S3Storage } from '../src/storage/s3-storage.js';
import type { S3Config } from '../src/config.js';
import { spreadOf, type Spread } from './stats.js';

export interface GrantCostResult {
  /** Nanoseconds per operation. */
  floor: Spread;
  grant: Spread;
  sdk: Spread;
  /** Per round, grant cost divided by the floor of the same round. */
  ratio: Spread;
  sdkRatio: Spread;
  stringToSignLength: number;
}

const KEY = 'videos/2024/a clip with spaces+plus é.mp4';

/**
 * Times, in this process, one signature with a cached signing key (the floor), one S3Storage.presignRead,
 * and one getSignedUrl for the same key. presignRead and getSignedUrl only sign: neither contacts s3rver.
 */
export async function measureGrantCost(config: S3Config, plan: { rounds: number; roundMs: number }): Promise<GrantCostResult> {
  const storage = new S3Storage(config);
  const client = createApiClient(config);

  try {
    // A KeyObject, as the presigner caches it: createHmac takes about 10% less time with one than with a
    // Buffer key, so this is the lower of the two floors.
    const signingKey = createSecretKey(createHmac('sha256', 'AWS4secret').update('20240501').digest());
    const stringToSign = realisticStringToSign();
    // The floor runs synchronously, with no await, so it carries none of the promise overhead that an
    // async grant pays.
    const floorOperation = () => {
      createHmac('sha256', signingKey).update(stringToSign).digest('hex');
    };
    const grantOperation = async () => {
      await storage.presignRead(KEY, { expiresInSeconds: 60, contentType: 'video/mp4' });
    };
    const command = new GetObjectCommand({ Bucket: config.bucket, Key: KEY, ResponseContentType: 'video/mp4', ResponseCacheControl: 'private, no-store' });
    const sdkOperation = async () => {
      await getSignedUrl(client, command, { expiresIn: 60 });
    };

    // Warm up the JIT, the credential provider and the presigner's endpoint probe.
    timeSyncOperation(floorOperation, 200);
    await timeOperation(grantOperation, 200);
    await timeOperation(sdkOperation, 200);

    const floor: number[] = [];
    const grant: number[] = [];
    const sdk: number[] = [];
    for (let round = 0; round < plan.rounds; round += 1) {
      floor.push(timeSyncOperation(floorOperation, plan.roundMs));
      grant.push(await timeOperation(grantOperation, plan.roundMs));
      sdk.push(await timeOperation(sdkOperation, plan.roundMs));
    }

    return {
      floor: spreadOf(floor),
      grant: spreadOf(grant),
      sdk: spreadOf(sdk),
      ratio: spreadOf(grant.map((cost, index) => cost / floor[index]!)),
      sdkRatio: spreadOf(sdk.map((cost, index) => cost / floor[index]!)),
      stringToSignLength: stringToSign.length,
    };
  } finally {
    client.destroy();
    await storage.close();
  }
}

/** Builds a SigV4 string to sign as a GetObject URL has it: algorithm, date, scope and a hex SHA-256. */
function realisticStringToSign(): string {
  return ['AWS4-HMAC-SHA256', '20240501T120000Z', '20240501/us-east-1/s3/aws4_request', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'].join('\n');
}

const BATCH = 100;

/** Runs the operation in batches until `durationMs` has passed and returns nanoseconds per call. */
async function timeOperation(operation: () => Promise<void>, durationMs: number): Promise<number> {
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(durationMs) * 1_000_000n;
  let calls = 0;
  let now = start;

  while (now < deadline) {
    for (let i = 0; i < BATCH; i += 1) await operation();
    calls += BATCH;
    now = process.hrtime.bigint();
  }
  return Number(now - start) / calls;
}

function timeSyncOperation(operation: () => void, durationMs: number): number {
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(durationMs) * 1_000_000n;
  let calls = 0;
  let now = start;

  while (now < deadline) {
    for (let i = 0; i < BATCH; i += 1) operation();
    calls += BATCH;
    now = process.hrtime.bigint();
  }
  return Number(now - start) / calls;
}
