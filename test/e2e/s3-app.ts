import { PutBucketCorsCommand, S3Client } from '@aws-sdk/client-s3';

import { buildCorsConfiguration } from '../../src/storage/s3-bucket-setup.js';
import type { S3TestServer } from '../helpers/s3-server.js';

/** Returns the settings that point `node dist/server.js` at a local s3rver. */
export function s3AppEnv(s3: S3TestServer, delivery: 'redirect' | 'proxy'): Record<string, string> {
  return {
    STORAGE: 's3',
    MEDIA_DELIVERY: delivery,
    S3_BUCKET: s3.bucket,
    S3_REGION: 'us-east-1',
    S3_ENDPOINT: s3.endpoint,
    S3_FORCE_PATH_STYLE: 'true',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
  };
}

/**
 * Applies the CORS rules that `reelgate s3 cors` prints for `siteOrigin` to the s3rver bucket, so the test
 * also checks that those rules let a browser PUT to the bucket and read the ETag.
 */
export async function applyAppCorsRules(s3: S3TestServer, siteOrigin: string): Promise<void> {
  const client = new S3Client({
    region: 'us-east-1',
    endpoint: s3.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  try {
    await client.send(new PutBucketCorsCommand({ Bucket: s3.bucket, CORSConfiguration: buildCorsConfiguration(siteOrigin) }));
  } finally {
    client.destroy();
  }
}
