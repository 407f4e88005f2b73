import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';

import { PutBucketCorsCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { runCli } from '../../src/cli/main.js';
import { REFERER_CONDITION_WARNING, buildCorsConfiguration, missingCorsPermissions } from '../../src/storage/s3-bucket-setup.js';
import { startS3Server, type S3TestServer } from '../helpers/s3-server.js';

/*
 * `reelgate s3 policy|cors|check` through runCli. The check runs against s3rver on loopback, which cannot
 * exercise everything:
 * - s3rver serves objects to unsigned requests (it has no ACLs or bucket policies), so "anonymous read
 *   refused" always fails here. The test asserts that failure, which proves that the check reports it.
 * - s3rver checks the expiry of presigned URLs but not their signatures, so "presigned read" passing here
 *   does not prove the signature is right.
 * - ListObjectsV2, PutObject, DeleteObject and Get/PutBucketCors behave as on S3.
 */

const SITE = 'https://videos.example.com';

let s3: S3TestServer;
let workDir: string;

beforeAll(async () => {
  s3 = await startS3Server('reelgate-cli-s3');
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgate-s3-cli-'));
});

afterAll(async () => {
  await s3.stop();
  fs.rmSync(workDir, { recursive: true, force: true });
});

interface RunResult {
  code: number;
  out: string;
  err: string;
}

async function run(argv: string[], env: Record<string, string>): Promise<RunResult> {
  let out = '';
  let err = '';
  const code = await runCli(argv, {
    stdin: Readable.from([]),
    out: (text) => (out += text),
    err: (text) => (err += text),
    env: { DATA_DIR: path.join(workDir, 'data'), ...env },
    cwd: workDir,
  });
  return { code, out, err };
}

const s3Env = (overrides: Record<string, string> = {}) => ({
  STORAGE: 's3',
  S3_BUCKET: s3.bucket,
  S3_REGION: 'us-east-1',
  S3_ENDPOINT: s3.endpoint,
  S3_FORCE_PATH_STYLE: 'true',
  S3_PREFIX: 'media/',
  PUBLIC_URL: SITE,
  ...overrides,
});

const TLS_STATEMENT = {
  Sid: 'DenyRequestsWithoutTls',
  Effect: 'Deny',
  Principal: '*',
  Action: 's3:*',
  Resource: ['arn:aws:s3:::reelgate-cli-s3', 'arn:aws:s3:::reelgate-cli-s3/*'],
  Condition: { Bool: { 'aws:SecureTransport': 'false' } },
};

describe('s3 policy', () => {
  it('denies requests without TLS', async () => {
    const result = await run(['s3', 'policy'], s3Env());

    expect(result.code).toBe(0);
    expect(JSON.parse(result.out)).toEqual({ Version: '2012-10-17', Statement: [TLS_STATEMENT] });
    expect(result.err).toBe('');
  });

  it('adds Referer condition with warning', async () => {
    const result = await run(['s3', 'policy', '--referer', 'https://Videos.Example.com'], s3Env());

    expect(result.code).toBe(0);
    expect(JSON.parse(result.out)).toEqual({
      Version: '2012-10-17',
      Statement: [
        TLS_STATEMENT,
        {
          Sid: 'DenyGetObjectWithoutSiteReferer',
          Effect: 'Deny',
          Principal: '*',
          Action: 's3:GetObject',
          Resource: 'arn:aws:s3:::reelgate-cli-s3/media/*',
          Condition: { StringNotLike: { 'aws:Referer': ['https://videos.example.com/*'] } },
        },
      ],
    });
    expect(result.err).toBe(`${REFERER_CONDITION_WARNING}\n`);
    expect(result.err).toContain('Any client can send any Referer header');
    expect(result.err).toContain('Presigned URLs are authorised by their signature');
  });

  it.each(['videos.example.com', 'https://videos.example.com/', 'https://videos.example.com/watch'])('rejects --referer %j', async (referer) => {
    const result = await run(['s3', 'policy', '--referer', referer], s3Env());

    expect(result.code).toBe(1);
    expect(result.out).toBe('');
    expect(result.err).toBe(`reelgate: error: --referer must be an origin such as https://videos.example.com, with no path or trailing slash (got "${referer}")\n`);
  });

  it('needs STORAGE=s3', async () => {
    const result = await run(['s3', 'policy'], {});

    expect(result.code).toBe(1);
    expect(result.err).toBe('reelgate: error: STORAGE is not s3: set STORAGE=s3, S3_BUCKET and S3_REGION (see .env.example)\n');
  });
});

describe('s3 cors', () => {
  it('prints rules for PUBLIC_URL', async () => {
    const result = await run(['s3', 'cors'], s3Env());

    expect(result.code).toBe(0);
    expect(JSON.parse(result.out)).toEqual({
      CORSRules: [
        {
          ID: 'reelgate-playback',
          AllowedOrigins: [SITE],
          AllowedMethods: ['GET', 'HEAD'],
          AllowedHeaders: ['Range', 'If-Range', 'If-None-Match', 'If-Modified-Since'],
          ExposeHeaders: ['Content-Range', 'Accept-Ranges', 'Content-Length', 'ETag'],
          MaxAgeSeconds: 3600,
        },
        {
          ID: 'reelgate-upload',
          AllowedOrigins: [SITE],
          AllowedMethods: ['PUT'],
          AllowedHeaders: ['Content-Type', 'Content-MD5'],
          ExposeHeaders: ['ETag'],
          MaxAgeSeconds: 3600,
        },
      ],
    });
  });

  it('needs PUBLIC_URL', async () => {
    const { PUBLIC_URL: _publicUrl, ...env } = s3Env();

    const result = await run(['s3', 'cors'], env);

    expect(result.code).toBe(1);
    expect(result.err).toBe("reelgate: error: PUBLIC_URL is missing: set it to the site's public origin, e.g. PUBLIC_URL=https://videos.example.com\n");
  });

  it('rejects PUBLIC_URL with a path', async () => {
    const result = await run(['s3', 'cors'], s3Env({ PUBLIC_URL: 'https://videos.example.com/app' }));

    expect(result.code).toBe(1);
    expect(result.err).toContain('PUBLIC_URL must be an origin such as https://videos.example.com');
  });
});

/** Parses the check's output into [name, 'ok' | 'FAIL'] pairs, in order. */
function outcomes(out: string): [string, string][] {
  return out
    .trimEnd()
    .split('\n')
    .map((line) => {
      const match = /^(ok  |FAIL) ([^:]+):/.exec(line);
      if (!match) throw new Error(`unexpected check line: ${line}`);
      return [match[2]!, match[1]!.trim()];
    });
}

describe('s3 check against s3rver', () => {
  it('reports anonymous read and missing CORS', async () => {
    const result = await run(['s3', 'check'], s3Env());

    expect(outcomes(result.out)).toEqual([
      ['list objects', 'ok'],
      ['write probe object', 'ok'],
      ['presigned read', 'ok'],
      ['anonymous read refused', 'FAIL'],
      ['delete probe object', 'ok'],
      ['CORS allows the site', 'FAIL'],
    ]);
    expect(result.out).toContain('FAIL anonymous read refused: an unsigned GET of the probe object answered 200, expected 403');
    expect(result.out).toContain('FAIL CORS allows the site: the bucket has no CORS configuration: apply the output of `reelgate s3 cors`');
    expect(result.code).toBe(1);
    expect(result.err).toBe('reelgate: error: 2 of 6 bucket checks failed\n');
  });

  it('probe object is deleted', async () => {
    const before = s3.events.length;

    await run(['s3', 'check'], s3Env());

    const events = s3.events.slice(before);
    expect(events.map((event) => event.eventName)).toEqual(['ObjectCreated:Put', 'ObjectRemoved:Delete']);
    expect(events[0]!.key).toMatch(/^media\/reelgate-check\/[0-9a-f]{16}\.txt$/);
    expect(events[1]!.key).toBe(events[0]!.key);
  });

  it('accepts CORS from s3 cors', async () => {
    const client = new S3Client({ region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true });
    const cors = JSON.parse((await run(['s3', 'cors'], s3Env())).out) as ReturnType<typeof buildCorsConfiguration>;
    await client.send(new PutBucketCorsCommand({ Bucket: s3.bucket, CORSConfiguration: cors }));
    try {
      const allowed = await run(['s3', 'check'], s3Env());
      const otherSite = await run(['s3', 'check'], s3Env({ PUBLIC_URL: 'https://elsewhere.example' }));
      const noSite = await run(['s3', 'check'], s3Env({ PUBLIC_URL: '' }));

      expect(allowed.out).toContain(`ok   CORS allows the site: GET, HEAD and PUT are allowed from ${SITE}, with ETag exposed`);
      expect(otherSite.out).toContain('FAIL CORS allows the site: no rule allows GET, HEAD, PUT from https://elsewhere.example');
      expect(noSite.out).toContain('FAIL CORS allows the site: PUBLIC_URL is missing');
    } finally {
      client.destroy();
    }
  });

  it('reads AWS credentials from .env', async () => {
    const envDir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgate-s3-cli-env-'));
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY, imds: process.env.AWS_EC2_METADATA_DISABLED };
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    // Without credentials the SDK would ask the EC2 instance metadata endpoint, which is not on this machine.
    process.env.AWS_EC2_METADATA_DISABLED = 'true';
    try {
      const settings = { ...s3Env(), DATA_DIR: path.join(envDir, 'data'), AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' };
      fs.writeFileSync(path.join(envDir, '.env'), Object.entries(settings).map(([name, value]) => `${name}=${value}`).join('\n'));
      let out = '';
      const code = await runCli(['s3', 'check'], { stdin: Readable.from([]), out: (text) => (out += text), err: () => {}, env: {}, cwd: envDir });

      expect(outcomes(out).slice(0, 3)).toEqual([
        ['list objects', 'ok'],
        ['write probe object', 'ok'],
        ['presigned read', 'ok'],
      ]);
      expect(out).not.toContain('Could not load credentials');
      expect(code).toBe(1);
    } finally {
      if (saved.id !== undefined) process.env.AWS_ACCESS_KEY_ID = saved.id;
      if (saved.secret !== undefined) process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
      if (saved.imds === undefined) delete process.env.AWS_EC2_METADATA_DISABLED;
      else process.env.AWS_EC2_METADATA_DISABLED = saved.imds;
      fs.rmSync(envDir, { recursive: true, force: true });
    }
  });

  it('reports a missing bucket', async () => {
    const result = await run(['s3', 'check'], s3Env({ S3_BUCKET: 'no-such-bucket' }));

    expect(outcomes(result.out)).toEqual([
      ['list objects', 'FAIL'],
      ['write probe object', 'FAIL'],
      ['presigned read', 'FAIL'],
      ['anonymous read refused', 'FAIL'],
      ['CORS allows the site', 'FAIL'],
    ]);
    expect(result.out).toContain('FAIL list objects: ListObjectsV2 failed: NoSuchBucket (HTTP 404)');
    expect(result.out).toContain('FAIL presigned read: skipped because the probe object could not be written');
    expect(result.code).toBe(1);
  });
});

describe('missingCorsPermissions', () => {
  it('wildcard origin counts', () => {
    const rules = [{ AllowedOrigins: ['*'], AllowedMethods: ['GET', 'HEAD', 'PUT'], ExposeHeaders: ['ETag'] }];

    expect(missingCorsPermissions(rules, SITE)).toEqual([]);
  });

  it('PUT without ETag exposed', () => {
    const rules = [{ AllowedOrigins: [SITE], AllowedMethods: ['GET', 'HEAD', 'PUT'], ExposeHeaders: ['Content-Range'] }];

    expect(missingCorsPermissions(rules, SITE)).toEqual(['the ETag header on PUT']);
  });

  it('other origin only', () => {
    const rules = [{ AllowedOrigins: ['https://other.example'], AllowedMethods: ['GET'] }];

    expect(missingCorsPermissions(rules, SITE)).toEqual(['GET', 'HEAD', 'PUT']);
  });
});
