import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { S3Config } from '../../src/config.js';
import { S3Storage } from '../../src/storage/s3-storage.js';
import { InvalidKeyError } from '../../src/storage/storage.js';
import { startS3Server, type S3TestServer } from '../helpers/s3-server.js';

let server: S3TestServer;
let storage: S3Storage;
let listingClient: S3Client;
const extraStorages: S3Storage[] = [];

beforeAll(async () => {
  server = await startS3Server();
  storage = new S3Storage(server.config);
  listingClient = new S3Client({ region: 'us-east-1', endpoint: server.endpoint, forcePathStyle: true });
});

afterAll(async () => {
  listingClient?.destroy();
  await Promise.all([storage, ...extraStorages].map((each) => each?.close()));
  await server?.stop();
});

function storageWith(overrides: Partial<S3Config>): S3Storage {
  const created = new S3Storage({ ...server.config, ...overrides });
  extraStorages.push(created);
  return created;
}

function patternBytes(size: number): Buffer {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i += 1) bytes[i] = (i * 31 + 7) % 251;
  return bytes;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function listKeys(prefix: string): Promise<string[]> {
  const output = await listingClient.send(new ListObjectsV2Command({ Bucket: server.bucket, Prefix: prefix }));
  return (output.Contents ?? []).map((object) => object.Key ?? '');
}

function md5Etag(bytes: Buffer): string {
  return `"${createHash('md5').update(bytes).digest('hex')}"`;
}

describe('S3Storage objects', () => {
  it('round-trips write, stat, read', async () => {
    const bytes = patternBytes(1000);

    await storage.write('videos/round-trip.mp4', Readable.from([bytes]), { contentType: 'video/mp4', size: bytes.length });
    const info = await storage.stat('videos/round-trip.mp4');
    const body = await readAll(await storage.read('videos/round-trip.mp4'));

    expect(server.events.filter((event) => event.key === 'videos/round-trip.mp4').map((event) => event.eventName)).toEqual(['ObjectCreated:Put']);
    expect(info?.size).toBe(1000);
    expect(info?.contentType).toBe('video/mp4');
    expect(info?.etag).toBe(md5Etag(bytes));
    expect(info?.lastModified).toBeInstanceOf(Date);
    expect(body.equals(bytes)).toBe(true);
  });

  it('reads an exact range', async () => {
    const bytes = patternBytes(256);
    await storage.write('videos/range.mp4', Readable.from([bytes]), { contentType: 'video/mp4' });

    const body = await readAll(await storage.read('videos/range.mp4', { range: { start: 10, end: 19 } }));

    expect(body.length).toBe(10);
    expect(body.equals(bytes.subarray(10, 20))).toBe(true);
  });

  it('writes multipart for large bodies', async () => {
    // 11 MiB in 1 MiB chunks makes Upload send three parts of 5, 5 and 1 MiB.
    const bytes = patternBytes(11 * 1024 * 1024);
    const chunks = Array.from({ length: 11 }, (_, i) => bytes.subarray(i * 1024 * 1024, (i + 1) * 1024 * 1024));

    await storage.write('videos/large.mp4', Readable.from(chunks), { contentType: 'video/mp4' });
    const info = await storage.stat('videos/large.mp4');
    const acrossParts = { start: 5 * 1024 * 1024 - 4, end: 5 * 1024 * 1024 + 3 };
    const body = await readAll(await storage.read('videos/large.mp4', { range: acrossParts }));

    expect(info?.size).toBe(bytes.length);
    expect(server.events.filter((event) => event.key === 'videos/large.mp4').map((event) => event.eventName)).toEqual(['ObjectCreated:Post']);
    expect(body.equals(bytes.subarray(acrossParts.start, acrossParts.end + 1))).toBe(true);
  });

  it('stat of missing key is null', async () => {
    expect(await storage.stat('videos/never-written.mp4')).toBeNull();
  });

  it('read of missing key rejects', async () => {
    await expect(storage.read('videos/never-written.mp4')).rejects.toMatchObject({ name: 'NoSuchKey' });
  });

  it('deletes and ignores missing', async () => {
    await storage.write('videos/doomed.mp4', Readable.from([Buffer.from('x')]), { contentType: 'video/mp4' });

    await storage.delete('videos/doomed.mp4');
    await storage.delete('videos/doomed.mp4');

    expect(await storage.stat('videos/doomed.mp4')).toBeNull();
  });

  it('replaces an existing object', async () => {
    await storage.write('videos/replaced.mp4', Readable.from([Buffer.from('first')]), { contentType: 'video/mp4' });
    await storage.write('videos/replaced.mp4', Readable.from([Buffer.from('second!')]), { contentType: 'video/webm' });

    const info = await storage.stat('videos/replaced.mp4');
    const body = await readAll(await storage.read('videos/replaced.mp4'));

    expect(info?.size).toBe(7);
    expect(info?.contentType).toBe('video/webm');
    expect(body.toString()).toBe('second!');
  });
});

describe('S3Storage keys', () => {
  const awkwardKeys = [
    'videos/my film + extras.mp4',
    'videos/a+b.mp4',
    'videos/café é.mp4',
    'videos/日本/動画.mp4',
    'videos/100% done.mp4',
    'videos/take #2.mp4',
    'videos/why?.mp4',
    "videos/&=;,'!()*$@[]~.mp4",
  ];

  it.each(awkwardKeys)('round-trips %s', async (key) => {
    const bytes = Buffer.from(`content of ${key}`);

    await storage.write(key, Readable.from([bytes]), { contentType: 'video/mp4' });
    const info = await storage.stat(key);
    const body = await readAll(await storage.read(key));
    const response = await fetch(await storage.presignRead(key, { expiresInSeconds: 60, contentType: 'video/mp4' }));
    const fetched = Buffer.from(await response.arrayBuffer());

    expect(info?.size).toBe(bytes.length);
    expect(body.equals(bytes)).toBe(true);
    expect(response.status).toBe(200);
    expect(fetched.equals(bytes)).toBe(true);
    expect(await listKeys(key)).toEqual([key]);
  });

  it('rejects invalid keys', async () => {
    const invalidKeys = ['', 'a\0b', 'a\nb', 'a\u007fb', 'a\u0085b', 'a\ud800b', '../secret', 'videos/./clip.mp4', 'videos/../clip.mp4'];

    for (const key of invalidKeys) {
      await expect(storage.stat(key), JSON.stringify(key)).rejects.toBeInstanceOf(InvalidKeyError);
    }
  });

  it('limits key to 1024 bytes with prefix', async () => {
    const prefixed = storageWith({ prefix: 'tenant a/' });
    // Segments stay under 255 bytes because s3rver stores each one as a directory or file name.
    const segment = 'x'.repeat(199);
    const fits = `${segment}/${segment}/${segment}/${segment}/${segment}/${'é'.repeat(5)}.webm`;
    const tooLong = `${fits}y`;

    expect(Buffer.byteLength(`tenant a/${fits}`)).toBe(1024);
    await prefixed.write(fits, Readable.from([Buffer.from('ok')]), { contentType: 'video/mp4' });
    expect((await prefixed.stat(fits))?.size).toBe(2);
    await expect(prefixed.stat(tooLong)).rejects.toBeInstanceOf(InvalidKeyError);
  });

  it('stores keys under prefix', async () => {
    const prefixed = storageWith({ prefix: 'tenant a/' });

    await prefixed.write('clips/intro.mp4', Readable.from([Buffer.from('intro')]), { contentType: 'video/mp4' });

    expect(await listKeys('tenant a/clips/')).toEqual(['tenant a/clips/intro.mp4']);
    expect((await prefixed.stat('clips/intro.mp4'))?.size).toBe(5);
    expect(await storage.stat('clips/intro.mp4')).toBeNull();
  });
});

describe('S3Storage presignRead', () => {
  it('overrides type for a range', async () => {
    const bytes = patternBytes(64);
    await storage.write('videos/octet.mp4', Readable.from([bytes]), { contentType: 'application/octet-stream' });

    const url = await storage.presignRead('videos/octet.mp4', { expiresInSeconds: 60, contentType: 'video/mp4' });
    const response = await fetch(url, { headers: { Range: 'bytes=0-1' } });
    const body = Buffer.from(await response.arrayBuffer());

    expect(response.status).toBe(206);
    expect(response.headers.get('content-type')).toBe('video/mp4');
    expect(response.headers.get('cache-control')).toBe('private, no-store');
    expect(response.headers.get('content-range')).toBe('bytes 0-1/64');
    expect(body.equals(bytes.subarray(0, 2))).toBe(true);
  });

  it('signs only host, no checksums', async () => {
    const url = new URL(await storage.presignRead('videos/octet.mp4', { expiresInSeconds: 60, contentType: 'video/mp4' }));
    const names = [...url.searchParams.keys()].sort();

    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('host');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('60');
    expect(names.filter((name) => /checksum/i.test(name))).toEqual([]);
    expect(names).toEqual([
      'X-Amz-Algorithm',
      'X-Amz-Content-Sha256',
      'X-Amz-Credential',
      'X-Amz-Date',
      'X-Amz-Expires',
      'X-Amz-Signature',
      'X-Amz-SignedHeaders',
      'response-cache-control',
      'response-content-type',
      'x-id',
    ]);
  });

  it('rejects URL after TTL', async () => {
    await storage.write('videos/short-lived.mp4', Readable.from([Buffer.from('brief')]), { contentType: 'video/mp4' });
    const url = await storage.presignRead('videos/short-lived.mp4', { expiresInSeconds: 1, contentType: 'video/mp4' });

    const fresh = await fetch(url);
    await fresh.arrayBuffer();
    // s3rver rejects requests after X-Amz-Date + X-Amz-Expires. X-Amz-Date drops the fraction of a second,
    // so 2.2 s after signing is past expiry.
    await sleep(2200);
    const expired = await fetch(url);
    const expiredBody = await expired.text();

    expect(fresh.status).toBe(200);
    expect(expired.status).toBe(403);
    expect(expiredBody).toContain('<Code>AccessDenied</Code>');
    expect(expiredBody).toContain('Request has expired');
  });

  it('rejects invalid lifetimes', async () => {
    for (const seconds of [0, -1, 1.5, 604_801]) {
      await expect(storage.presignRead('videos/octet.mp4', { expiresInSeconds: seconds, contentType: 'video/mp4' })).rejects.toBeInstanceOf(RangeError);
    }
  });

  it('signs for publicEndpoint host', async () => {
    const publicStorage = storageWith({ publicEndpoint: 'https://media.example.test:8443' });

    const url = new URL(await publicStorage.presignRead('videos/octet.mp4', { expiresInSeconds: 60, contentType: 'video/mp4' }));

    expect(url.origin).toBe('https://media.example.test:8443');
    expect(url.pathname).toBe(`/${server.bucket}/videos/octet.mp4`);
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('host');
  });
});

describe('S3Storage publicOrigin', () => {
  // Each case is also presigned, so the test fails if the SDK's addressing rules stop matching ours.
  // Presigning happens offline, and nothing here contacts the hosts named.
  const cases: { name: string; overrides: Partial<S3Config>; origin: string }[] = [
    { name: 'loopback endpoint', overrides: {}, origin: '' },
    {
      name: 'public endpoint, path style',
      overrides: { publicEndpoint: 'https://media.example.test', forcePathStyle: true },
      origin: 'https://media.example.test',
    },
    {
      name: 'public endpoint, virtual host',
      overrides: { publicEndpoint: 'https://media.example.test', forcePathStyle: false },
      origin: 'https://reelgate-test.media.example.test',
    },
    {
      name: 'aws, virtual host',
      overrides: { endpoint: undefined, region: 'eu-west-1', forcePathStyle: false },
      origin: 'https://reelgate-test.s3.eu-west-1.amazonaws.com',
    },
    {
      name: 'aws, path style',
      overrides: { endpoint: undefined, region: 'eu-west-1', forcePathStyle: true },
      origin: 'https://s3.eu-west-1.amazonaws.com',
    },
    {
      name: 'aws, dotted bucket',
      overrides: { endpoint: undefined, region: 'eu-west-1', forcePathStyle: false, bucket: 'media.reelgate.test' },
      origin: 'https://s3.eu-west-1.amazonaws.com',
    },
  ];

  it.each(cases)('matches presign for $name', async ({ overrides, origin }) => {
    const configured = storageWith(overrides);
    const expected = origin === '' ? server.endpoint : origin;

    const presigned = new URL(await configured.presignRead('videos/clip.mp4', { expiresInSeconds: 60, contentType: 'video/mp4' }));

    expect(configured.publicOrigin()).toBe(expected);
    expect(presigned.origin).toBe(expected);
  });
});

describe('S3Storage read abort', () => {
  it('ends stream and frees socket', async () => {
    // With one socket, the stat below would wait until the test times out if the aborted download kept it.
    const singleSocket = storageWith({ maxSockets: 1 });
    const bytes = patternBytes(8 * 1024 * 1024);
    await singleSocket.write('videos/abort.mp4', Readable.from([bytes]), { contentType: 'video/mp4' });
    const controller = new AbortController();

    const stream = await singleSocket.read('videos/abort.mp4', { signal: controller.signal });
    const firstChunk = (await stream[Symbol.asyncIterator]().next()).value as Buffer;
    controller.abort();
    const outcome = await finished(stream).then(
      () => 'ended',
      (error: NodeJS.ErrnoException) => error.code,
    );
    const info = await singleSocket.stat('videos/abort.mp4');

    expect(firstChunk.length).toBeGreaterThan(0);
    expect(firstChunk.length).toBeLessThan(bytes.length);
    expect(outcome).toBe('ECONNRESET');
    expect(stream.destroyed).toBe(true);
    expect(info?.size).toBe(bytes.length);
  });

  it('rejects when already aborted', async () => {
    const controller = new AbortController();
    controller.abort();

    await expect(storage.read('videos/range.mp4', { signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('S3Storage bucket', () => {
  it('check passes for bucket', async () => {
    await expect(storage.check()).resolves.toBeUndefined();
  });

  it('creates a missing bucket once', async () => {
    const fresh = storageWith({ bucket: 'reelgate-created' });

    await expect(fresh.check()).rejects.toMatchObject({ name: 'NotFound' });
    await fresh.createBucketIfMissing();
    await fresh.createBucketIfMissing();

    await expect(fresh.check()).resolves.toBeUndefined();
  });
});
