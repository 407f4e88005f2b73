import { Readable } from 'node:stream';
import { GetObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { S3Presigner } from '../../src/storage/s3-presigner.js';
import { S3Storage } from '../../src/storage/s3-storage.js';
import { startS3Server, type S3TestServer } from '../helpers/s3-server.js';

/*
 * s3rver never verifies signatures, so the byte-for-byte comparison with getSignedUrl is what proves that
 * the presigner signs correctly. The s3rver test only shows that its URLs reach the object.
 */

const SIGNING_DATE = new Date('2024-05-01T23:59:58Z');
const STATIC_CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
const SESSION_CREDENTIALS = { ...STATIC_CREDENTIALS, sessionToken: 'FwoGZXIvYXdzE+token/with=padding==' };

interface Setting {
  name: string;
  bucket: string;
  config: S3ClientConfig;
}

const SETTINGS: Setting[] = [
  { name: 'AWS eu-west-1', bucket: 'reelgate-videos', config: { region: 'eu-west-1' } },
  { name: 'AWS us-east-1 with a session token', bucket: 'reelgate-videos', config: { region: 'us-east-1', credentials: SESSION_CREDENTIALS } },
  { name: 'AWS bucket with dots', bucket: 'videos.example.com', config: { region: 'eu-central-1' } },
  { name: 'AWS forced path style', bucket: 'reelgate-videos', config: { region: 'ap-southeast-2', forcePathStyle: true } },
  { name: 'AWS China', bucket: 'reelgate-videos', config: { region: 'cn-north-1' } },
  { name: 'loopback path style', bucket: 'reelgate-test', config: { region: 'us-east-1', endpoint: 'http://127.0.0.1:9000', forcePathStyle: true } },
  { name: 'custom host virtual style', bucket: 'media', config: { region: 'us-east-1', endpoint: 'https://storage.example.com' } },
  { name: 'custom host with base path', bucket: 'media', config: { region: 'auto', endpoint: 'https://gateway.example.com:8443/s3', forcePathStyle: true } },
];

const KEYS = [
  'videos/clip.mp4',
  'videos/with space/and+plus.mp4',
  'unicode/été 🎬 Ünïcödé.mp4',
  "marks/~!*()'-_.mp4",
  'reserved/?#&=;:@$,[]%41.mp4',
  'double//slash.mp4',
  '/leading-slash.mp4',
  'trailing-slash/',
];

const CONTENT_TYPES = ['video/mp4', 'video/webm; codecs="vp9, opus"'];

const clients: S3Client[] = [];

function clientFor(setting: Setting, credentials: S3ClientConfig['credentials'] = STATIC_CREDENTIALS): S3Client {
  const client = new S3Client({
    credentials,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...setting.config,
  });
  clients.push(client);
  return client;
}

async function sdkUrl(client: S3Client, bucket: string, key: string, contentType: string, signingDate = SIGNING_DATE): Promise<string> {
  const command = new GetObjectCommand({ Bucket: bucket, Key: key, ResponseContentType: contentType, ResponseCacheControl: 'private, no-store' });
  return getSignedUrl(client, command, { expiresIn: 45, signingDate });
}

function ownOptions(contentType: string, signingDate = SIGNING_DATE) {
  return { expiresInSeconds: 45, responseContentType: contentType, responseCacheControl: 'private, no-store', signingDate };
}

afterAll(() => {
  for (const client of clients) client.destroy();
});

describe('S3Presigner against getSignedUrl', () => {
  for (const setting of SETTINGS) {
    it(`matches the SDK: ${setting.name}`, async () => {
      const client = clientFor(setting);
      const presigner = new S3Presigner(client, setting.bucket);

      for (const key of KEYS) {
        for (const contentType of CONTENT_TYPES) {
          const expected = await sdkUrl(client, setting.bucket, key, contentType);
          const actual = await presigner.presignGetObject(key, ownOptions(contentType));

          expect(actual, `${key} as ${contentType}`).toBe(expected);
        }
      }
    });
  }

  it('matches without response overrides', async () => {
    const client = clientFor(SETTINGS[0]!);
    const presigner = new S3Presigner(client, 'reelgate-videos');

    const command = new GetObjectCommand({ Bucket: 'reelgate-videos', Key: 'plain.mp4' });
    const expected = await getSignedUrl(client, command, { expiresIn: 604_800, signingDate: SIGNING_DATE });
    const actual = await presigner.presignGetObject('plain.mp4', { expiresInSeconds: 604_800, signingDate: SIGNING_DATE });

    expect(actual).toBe(expected);
  });

  it('matches across a change of day', async () => {
    const client = clientFor(SETTINGS[0]!);
    const presigner = new S3Presigner(client, 'reelgate-videos');
    const nextDay = new Date(SIGNING_DATE.getTime() + 5_000);

    const first = await presigner.presignGetObject('day.mp4', ownOptions('video/mp4'));
    const second = await presigner.presignGetObject('day.mp4', ownOptions('video/mp4', nextDay));

    expect(first).toBe(await sdkUrl(client, 'reelgate-videos', 'day.mp4', 'video/mp4'));
    expect(second).toBe(await sdkUrl(client, 'reelgate-videos', 'day.mp4', 'video/mp4', nextDay));
    expect(second).toContain('X-Amz-Credential=AKIDEXAMPLE%2F20240502%2F');
  });

  it('follows refreshed credentials', async () => {
    // An expiration inside the SDK's refresh window makes its memoized provider call this one every time.
    const credentialSets = [
      { ...SESSION_CREDENTIALS, expiration: new Date(Date.now() + 60_000) },
      { accessKeyId: 'AKIDROTATED', secretAccessKey: 'rotated-secret', sessionToken: 'second-token', expiration: new Date(Date.now() + 60_000) },
    ];
    let current = credentialSets[0]!;
    const client = clientFor(SETTINGS[0]!, async () => current);
    const presigner = new S3Presigner(client, 'reelgate-videos');

    const before = await presigner.presignGetObject('rotate.mp4', ownOptions('video/mp4'));
    current = credentialSets[1]!;
    const after = await presigner.presignGetObject('rotate.mp4', ownOptions('video/mp4'));

    expect(before).toContain('X-Amz-Credential=AKIDEXAMPLE%2F');
    expect(after).toContain('X-Amz-Credential=AKIDROTATED%2F');
    expect(after).toContain('X-Amz-Security-Token=second-token&');
    expect(after).toBe(await sdkUrl(client, 'reelgate-videos', 'rotate.mp4', 'video/mp4'));
  });

  it('rejects an SDK URL it cannot reproduce', async () => {
    // With the SDK's default checksum settings, GetObject URLs carry x-amz-checksum-mode=ENABLED.
    const client = new S3Client({ region: 'eu-west-1', credentials: STATIC_CREDENTIALS });
    clients.push(client);
    const presigner = new S3Presigner(client, 'reelgate-videos');

    await expect(presigner.presignGetObject('a.mp4', { expiresInSeconds: 60 })).rejects.toThrow(
      'getSignedUrl added the query parameter x-amz-checksum-mode, which S3Presigner does not produce',
    );
  });

  it('rejects lifetimes outside 1 s to 7 days', async () => {
    const presigner = new S3Presigner(clientFor(SETTINGS[0]!), 'reelgate-videos');

    await expect(presigner.presignGetObject('a.mp4', { expiresInSeconds: 0 })).rejects.toThrow(RangeError);
    await expect(presigner.presignGetObject('a.mp4', { expiresInSeconds: 604_801 })).rejects.toThrow(RangeError);
    await expect(presigner.presignGetObject('a.mp4', { expiresInSeconds: 1.5 })).rejects.toThrow(RangeError);
  });
});

describe('S3Presigner with s3rver', () => {
  let server: S3TestServer;
  let storage: S3Storage;

  beforeAll(async () => {
    server = await startS3Server();
    storage = new S3Storage(server.config);
    await storage.write('fetch/été clip+1.mp4', Readable.from([Buffer.from('twelve bytes')]), { contentType: 'application/octet-stream' });
  });

  afterAll(async () => {
    await storage?.close();
    await server?.stop();
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  function s3rverSetting(): Setting {
    return { name: 's3rver', bucket: server.bucket, config: { region: 'us-east-1', endpoint: server.endpoint, forcePathStyle: true } };
  }

  it('serves the object', async () => {
    const url = await storage.presignRead('fetch/été clip+1.mp4', { expiresInSeconds: 30, contentType: 'video/mp4' });

    const response = await fetch(url);

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('video/mp4');
    expect(response.headers.get('cache-control')).toBe('private, no-store');
    expect(await response.text()).toBe('twelve bytes');
  });

  it('is refused once expired', async () => {
    const presigner = new S3Presigner(clientFor(s3rverSetting(), S3RVER_CREDENTIALS), server.bucket);
    const url = await presigner.presignGetObject('fetch/été clip+1.mp4', { expiresInSeconds: 5, signingDate: new Date(Date.now() - 10_000) });

    const response = await fetch(url);

    expect(response.status).toBe(403);
  });

  it('presignRead equals getSignedUrl', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(SIGNING_DATE);
    const client = clientFor(s3rverSetting(), S3RVER_CREDENTIALS);
    const command = new GetObjectCommand({
      Bucket: server.bucket,
      Key: 'fetch/été clip+1.mp4',
      ResponseContentType: 'video/mp4',
      ResponseCacheControl: 'private, no-store',
    });

    const actual = await storage.presignRead('fetch/été clip+1.mp4', { expiresInSeconds: 30, contentType: 'video/mp4' });
    const expected = await getSignedUrl(client, command, { expiresIn: 30 });

    expect(actual).toBe(expected);
  });
});
