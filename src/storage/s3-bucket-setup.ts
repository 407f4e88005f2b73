import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';

import { GetBucketCorsCommand, ListObjectsV2Command, S3ServiceException, type CORSRule } from '@aws-sdk/client-s3';

import type { S3Config } from '../config.js';
import { S3Storage, createApiClient } from './s3-storage.js';

/*
 * What `reelgate s3 policy|cors|check` print and test. The documents are built here, beside the SDK calls
 * that check them, so the CLI only formats output.
 */

const CORS_MAX_AGE_SECONDS = 3600;
const CHECK_TIMEOUT_MS = 10_000;
const PROBE_FOLDER = 'reelgate-check';

export interface BucketPolicy {
  Version: '2012-10-17';
  Statement: PolicyStatement[];
}

interface PolicyStatement {
  Sid: string;
  Effect: 'Deny';
  Principal: '*';
  Action: string;
  Resource: string | string[];
  Condition: Record<string, Record<string, string | string[]>>;
}

/**
 * Builds a bucket policy that denies every request made without TLS. With `refererOrigin` it also denies
 * GetObject without that Referer. This is the condition of the classic "restrict by HTTP referer" recipe,
 * written as a Deny, because the recipe's Allow form would let anyone who sends the header read every
 * object without credentials.
 */
export function buildBucketPolicy(config: S3Config, options: { refererOrigin?: string } = {}): BucketPolicy {
  const bucketArn = `arn:aws:s3:::${config.bucket}`;
  const statements: PolicyStatement[] = [
    {
      Sid: 'DenyRequestsWithoutTls',
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:*',
      Resource: [bucketArn, `${bucketArn}/*`],
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    },
  ];

  if (options.refererOrigin !== undefined) {
    statements.push({
      Sid: 'DenyGetObjectWithoutSiteReferer',
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:GetObject',
      Resource: `${bucketArn}/${config.prefix}*`,
      Condition: { StringNotLike: { 'aws:Referer': [`${options.refererOrigin}/*`] } },
    });
  }

  return { Version: '2012-10-17', Statement: statements };
}

/** Explains, for stderr, why the Referer statement of buildBucketPolicy protects nothing by itself. */
export const REFERER_CONDITION_WARNING = [
  'Warning: the aws:Referer condition protects nothing on its own.',
  '- Any client can send any Referer header: curl -H "Referer: <your site>/" passes it.',
  '- Presigned URLs are authorised by their signature. The Referer condition is only one more header for a',
  '  copied URL to send, and the URL still works until it expires.',
  '- reelgate sends "Referrer-Policy: same-origin", so browsers send no Referer to the storage origin, and the',
  '  app\'s own S3 requests (proxy delivery, uploads, probes) send none either. With this statement applied,',
  '  S3 refuses those GetObject requests and playback breaks unless you relax both.',
  'Short grant lifetimes (MEDIA_URL_TTL_SECONDS), proxy delivery and the hotlink guard are what limit copied URLs.',
].join('\n');

export interface CorsConfiguration {
  CORSRules: CORSRule[];
}

/**
 * Builds the CORS rules that the player and browser uploads need, in the JSON form that
 * `aws s3api put-bucket-cors --cors-configuration` reads.
 */
export function buildCorsConfiguration(siteOrigin: string): CorsConfiguration {
  return {
    CORSRules: [
      {
        ID: 'reelgate-playback',
        AllowedOrigins: [siteOrigin],
        AllowedMethods: ['GET', 'HEAD'],
        AllowedHeaders: ['Range', 'If-Range', 'If-None-Match', 'If-Modified-Since'],
        ExposeHeaders: ['Content-Range', 'Accept-Ranges', 'Content-Length', 'ETag'],
        MaxAgeSeconds: CORS_MAX_AGE_SECONDS,
      },
      {
        ID: 'reelgate-upload',
        AllowedOrigins: [siteOrigin],
        AllowedMethods: ['PUT'],
        AllowedHeaders: ['Content-Type', 'Content-MD5'],
        // Completing a multipart upload needs the ETag of every part, which the browser reads from the PUT response.
        ExposeHeaders: ['ETag'],
        MaxAgeSeconds: CORS_MAX_AGE_SECONDS,
      },
    ],
  };
}

export interface BucketCheck {
  name: string;
  ok: boolean;
  detail: string;
}

/**
 * Checks the bucket with the configured credentials. It writes one small probe object under S3_PREFIX,
 * presigns and fetches it, fetches it again without a signature, and deletes it. Every request goes to the
 * configured endpoint (S3_ENDPOINT, S3_PUBLIC_ENDPOINT for the presigned URL, or AWS for the region).
 */
export async function checkBucket(config: S3Config, siteOrigin: string | undefined): Promise<BucketCheck[]> {
  const client = createApiClient(config);
  const storage = new S3Storage(config);

  try {
    const checks = [await checkList(client, config)];
    checks.push(...(await checkProbeObject(storage)));
    checks.push(await checkCors(client, config, siteOrigin));
    return checks;
  } finally {
    client.destroy();
    await storage.close();
  }
}

type ApiClient = ReturnType<typeof createApiClient>;

async function checkList(client: ApiClient, config: S3Config): Promise<BucketCheck> {
  const name = 'list objects';
  try {
    const command = new ListObjectsV2Command({ Bucket: config.bucket, Prefix: config.prefix, MaxKeys: 1 });
    await client.send(command, { abortSignal: AbortSignal.timeout(CHECK_TIMEOUT_MS) });
    return { name, ok: true, detail: `the credentials can list s3://${config.bucket}/${config.prefix}` };
  } catch (err) {
    return { name, ok: false, detail: `ListObjectsV2 failed: ${describeError(err)}` };
  }
}

async function checkProbeObject(storage: S3Storage): Promise<BucketCheck[]> {
  const key = `${PROBE_FOLDER}/${randomBytes(8).toString('hex')}.txt`;
  const content = `reelgate bucket check ${new Date().toISOString()}\n`;

  try {
    await storage.write(key, Readable.from([Buffer.from(content)]), { contentType: 'text/plain' });
  } catch (err) {
    const skipped = 'skipped because the probe object could not be written';
    return [
      { name: 'write probe object', ok: false, detail: `PutObject failed: ${describeError(err)}` },
      { name: 'presigned read', ok: false, detail: skipped },
      { name: 'anonymous read refused', ok: false, detail: skipped },
    ];
  }

  const checks: BucketCheck[] = [{ name: 'write probe object', ok: true, detail: `wrote ${key} under the prefix` }];
  try {
    const url = await storage.presignRead(key, { expiresInSeconds: 60, contentType: 'text/plain' });
    checks.push(await checkPresignedRead(url, content));
    checks.push(await checkAnonymousRead(url));
  } finally {
    checks.push(await deleteProbe(storage, key));
  }
  return checks;
}

async function checkPresignedRead(url: string, content: string): Promise<BucketCheck> {
  const name = 'presigned read';
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(CHECK_TIMEOUT_MS) });
    const body = await response.text();
    if (response.status !== 200) return { name, ok: false, detail: `a presigned GET answered ${response.status}, expected 200` };
    if (body !== content) return { name, ok: false, detail: 'a presigned GET returned other bytes than were written' };
    return { name, ok: true, detail: 'a presigned GET returned the probe object' };
  } catch (err) {
    return { name, ok: false, detail: `a presigned GET failed: ${describeError(err)}` };
  }
}

/** Fetches the object's URL with the signature removed, as anyone who guesses or strips a URL could. */
async function checkAnonymousRead(presignedUrl: string): Promise<BucketCheck> {
  const name = 'anonymous read refused';
  const url = new URL(presignedUrl);
  url.search = '';

  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(CHECK_TIMEOUT_MS) });
    await response.body?.cancel();
    if (response.status === 403) return { name, ok: true, detail: 'an unsigned GET of the probe object answered 403' };
    return {
      name,
      ok: false,
      detail: `an unsigned GET of the probe object answered ${response.status}, expected 403: anyone can read this bucket. Turn on Block Public Access and remove public ACLs and policy grants`,
    };
  } catch (err) {
    return { name, ok: false, detail: `an unsigned GET failed: ${describeError(err)}` };
  }
}

async function deleteProbe(storage: S3Storage, key: string): Promise<BucketCheck> {
  const name = 'delete probe object';
  try {
    await storage.delete(key);
    return { name, ok: true, detail: `deleted ${key}` };
  } catch (err) {
    return { name, ok: false, detail: `DeleteObject failed, so delete ${key} by hand: ${describeError(err)}` };
  }
}

async function checkCors(client: ApiClient, config: S3Config, siteOrigin: string | undefined): Promise<BucketCheck> {
  const name = 'CORS allows the site';
  if (siteOrigin === undefined) {
    return { name, ok: false, detail: 'PUBLIC_URL is missing: set it to the site origin so the CORS rules can be compared' };
  }

  let rules: CORSRule[];
  try {
    const output = await client.send(new GetBucketCorsCommand({ Bucket: config.bucket }), { abortSignal: AbortSignal.timeout(CHECK_TIMEOUT_MS) });
    rules = output.CORSRules ?? [];
  } catch (err) {
    if (err instanceof S3ServiceException && err.name === 'NoSuchCORSConfiguration') {
      return { name, ok: false, detail: 'the bucket has no CORS configuration: apply the output of `reelgate s3 cors`' };
    }
    return { name, ok: false, detail: `GetBucketCors failed: ${describeError(err)}` };
  }

  const missing = missingCorsPermissions(rules, siteOrigin);
  if (missing.length > 0) {
    return { name, ok: false, detail: `no rule allows ${missing.join(', ')} from ${siteOrigin}: apply the output of \`reelgate s3 cors\`` };
  }
  return { name, ok: true, detail: `GET, HEAD and PUT are allowed from ${siteOrigin}, with ETag exposed` };
}

/** Lists what the player and uploads need from `origin` that no CORS rule grants. */
export function missingCorsPermissions(rules: CORSRule[], origin: string): string[] {
  const forOrigin = rules.filter((rule) => (rule.AllowedOrigins ?? []).some((allowed) => allowed === '*' || allowed === origin));
  const missing: string[] = [];

  for (const method of ['GET', 'HEAD', 'PUT']) {
    if (!forOrigin.some((rule) => rule.AllowedMethods?.includes(method))) missing.push(method);
  }

  const putRules = forOrigin.filter((rule) => rule.AllowedMethods?.includes('PUT'));
  const exposesEtag = putRules.some((rule) => (rule.ExposeHeaders ?? []).some((header) => header.toLowerCase() === 'etag'));
  if (putRules.length > 0 && !exposesEtag) missing.push('the ETag header on PUT');

  return missing;
}

// For an SDK error only the S3 error code and the HTTP status are shown, which is what an operator acts on.
function describeError(err: unknown): string {
  if (err instanceof S3ServiceException) return `${err.name} (HTTP ${err.$metadata.httpStatusCode ?? 'no status'})`;
  if (err instanceof Error) return err.cause instanceof Error ? `${err.message}: ${err.cause.message}` : err.message;
  return String(err);
}
