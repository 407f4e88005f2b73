import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type { S3Config } from '../../src/config.js';

/*
 * s3rver 3.7 as a local S3 for tests. What tests can and cannot rely on:
 * - It checks the expiry of presigned SigV4 URLs (X-Amz-Date + X-Amz-Expires), but it never verifies a
 *   SigV4 signature, so a test passing here does not prove a URL is signed correctly.
 * - It accepts only the access key id "S3RVER" and rejects others with InvalidAccessKeyId.
 * - It honours Range and the response-content-type / response-cache-control query overrides.
 * - A multipart upload gets the MD5 of the whole object as its ETag, not S3's "<md5 of part md5s>-<parts>".
 */

interface S3rverOptions {
  address: string;
  port: number;
  directory: string;
  silent: boolean;
  configureBuckets: { name: string; configs: string[] }[];
}

interface S3rverEvent {
  Records: { eventName: string; s3: { object: { key: string } } }[];
}

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  on(name: 'event', listener: (event: S3rverEvent) => void): void;
}

type S3rverConstructor = new (options: S3rverOptions) => S3rverInstance;

// s3rver ships no type declarations, so it is loaded through require and typed by the interfaces above.
const S3rver = createRequire(import.meta.url)('s3rver') as S3rverConstructor;

export interface S3TestServer {
  endpoint: string;
  bucket: string;
  config: S3Config;
  /** Object notifications in arrival order, such as "ObjectCreated:Put" or "ObjectCreated:Post" (multipart). */
  events: { eventName: string; key: string }[];
  stop(): Promise<void>;
}

/**
 * Starts s3rver on a random loopback port with one empty bucket in a fresh temporary directory.
 *
 * Sets AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY to "S3RVER" in process.env when they are unset, because
 * the SDK's credential chain needs credentials, and without them it would try the EC2 metadata endpoint,
 * which is off this machine. Credentials already in the environment are kept, and s3rver then rejects them
 * unless the access key id is "S3RVER".
 */
export async function startS3Server(bucket = 'reelgate-test'): Promise<S3TestServer> {
  useS3rverCredentials();

  const directory = await mkdtemp(path.join(os.tmpdir(), 'reelgate-s3rver-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    directory,
    silent: true,
    configureBuckets: [{ name: bucket, configs: [] }],
  });
  const events: S3TestServer['events'] = [];
  server.on('event', (event) => {
    for (const record of event.Records) events.push({ eventName: record.eventName, key: record.s3.object.key });
  });

  const address = await server.run();
  const endpoint = `http://127.0.0.1:${address.port}`;

  return {
    endpoint,
    bucket,
    config: {
      bucket,
      region: 'us-east-1',
      prefix: '',
      endpoint,
      publicEndpoint: undefined,
      forcePathStyle: true,
      maxSockets: 16,
    },
    events,
    async stop() {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

function useS3rverCredentials(): void {
  process.env.AWS_ACCESS_KEY_ID ??= 'S3RVER';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'S3RVER';
}

/** Returns the settings that point an app at this test server, path-style as s3rver needs. */
export function s3AppEnv(s3: { bucket: string; endpoint: string }): Record<string, string> {
  return {
    STORAGE: 's3',
    S3_BUCKET: s3.bucket,
    S3_REGION: 'us-east-1',
    S3_ENDPOINT: s3.endpoint,
    S3_FORCE_PATH_STYLE: 'true',
  };
}
