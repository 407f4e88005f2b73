import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { LocalStorage } from '../../src/storage/local-storage.js';
import { S3Storage } from '../../src/storage/s3-storage.js';
import { DirectUploadUnsupportedError } from '../../src/storage/storage.js';
import { startMultipartS3Server, type MultipartS3Server } from './s3-multipart-server.js';

const MIB = 1024 * 1024;

describe('S3Storage direct uploads', () => {
  let server: MultipartS3Server;
  let storage: S3Storage;

  beforeAll(async () => {
    server = await startMultipartS3Server();
    storage = new S3Storage({ ...server.config, prefix: 'lib/' });
  });

  afterAll(async () => {
    await storage.close();
    await server.stop();
  });

  it('presigned PUT signs no checksum', async () => {
    const url = new URL(await storage.presignWrite('videos/a/one.mp4', { expiresInSeconds: 600, contentType: 'video/mp4' }));

    const names = [...url.searchParams.keys()];
    expect(names.filter((name) => /checksum/i.test(name))).toEqual([]);
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('content-type;host');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('600');
    expect(url.pathname).toBe(`/${server.bucket}/lib/videos/a/one.mp4`);
  });

  it('presigned PUT stores the body', async () => {
    const url = await storage.presignWrite('videos/a/put.mp4', { expiresInSeconds: 600, contentType: 'video/mp4' });

    const response = await fetch(url, { method: 'PUT', headers: { 'content-type': 'video/mp4' }, body: 'twelve bytes' });

    expect(response.status).toBe(200);
    const info = await storage.stat('videos/a/put.mp4');
    expect(info?.size).toBe(12);
    expect(info?.contentType).toBe('video/mp4');
  });

  it('part URL signs only host', async () => {
    const uploadId = await storage.createMultipartUpload('videos/b/parts.mp4', { contentType: 'video/mp4' });
    const url = new URL(await storage.presignUploadPart('videos/b/parts.mp4', uploadId, 3, { expiresInSeconds: 600 }));

    expect([...url.searchParams.keys()].filter((name) => /checksum/i.test(name))).toEqual([]);
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('host');
    expect(url.searchParams.get('partNumber')).toBe('3');
    expect(url.searchParams.get('uploadId')).toBe(uploadId);
    await storage.abortMultipartUpload('videos/b/parts.mp4', uploadId);
  });

  it('multipart upload completes', async () => {
    const key = 'videos/c/whole.bin';
    const body = Buffer.alloc(6 * MIB, 7);
    body.write('tail', body.length - 4);
    const uploadId = await storage.createMultipartUpload(key, { contentType: 'application/octet-stream' });

    const parts = [];
    for (const [partNumber, slice] of [[1, body.subarray(0, 5 * MIB)], [2, body.subarray(5 * MIB)]] as const) {
      const url = await storage.presignUploadPart(key, uploadId, partNumber, { expiresInSeconds: 600 });
      const response = await fetch(url, { method: 'PUT', body: slice });
      expect(response.status).toBe(200);
      parts.push({ partNumber, etag: response.headers.get('etag')! });
    }
    const listed = await storage.listParts(key, uploadId);
    await storage.completeMultipartUpload(key, uploadId, [...parts].reverse());

    expect(listed.map((part) => [part.partNumber, part.size])).toEqual([[1, 5 * MIB], [2, MIB]]);
    expect(listed.map((part) => part.etag)).toEqual(parts.map((part) => part.etag));
    expect((await storage.stat(key))?.size).toBe(6 * MIB);
    const tail = await storage.read(key, { range: { start: body.length - 4, end: body.length - 1 } });
    expect(Buffer.concat(await tail.toArray()).toString()).toBe('tail');
    expect(await server.storedUploadIds()).not.toContain(uploadId);
  });

  it('abort removes stored parts', async () => {
    const key = 'videos/d/aborted.bin';
    const uploadId = await storage.createMultipartUpload(key, { contentType: 'application/octet-stream' });
    const url = await storage.presignUploadPart(key, uploadId, 1, { expiresInSeconds: 600 });
    await fetch(url, { method: 'PUT', body: Buffer.alloc(MIB) });
    expect((await storage.listParts(key, uploadId)).length).toBe(1);

    await storage.abortMultipartUpload(key, uploadId);

    expect(await server.storedUploadIds()).not.toContain(uploadId);
    await expect(storage.listParts(key, uploadId)).rejects.toThrow(/upload does not exist/);
    expect(await storage.stat(key)).toBeNull();
  });

  it('abort twice succeeds', async () => {
    const uploadId = await storage.createMultipartUpload('videos/e/twice.bin', { contentType: 'application/octet-stream' });
    await storage.abortMultipartUpload('videos/e/twice.bin', uploadId);

    await expect(storage.abortMultipartUpload('videos/e/twice.bin', uploadId)).resolves.toBeUndefined();
  });

  it('list returns keys under the prefix', async () => {
    await storage.write('import/one.mp4', Readable.from([Buffer.from('1')]), { contentType: 'video/mp4' });
    await storage.write('import/sub/two.mp4', Readable.from([Buffer.from('22')]), { contentType: 'video/mp4' });
    await storage.write('other/three.mp4', Readable.from([Buffer.from('333')]), { contentType: 'video/mp4' });

    const listed = await storage.list('import/', { limit: 10 });

    expect(listed.map((object) => [object.key, object.size])).toEqual([
      ['import/one.mp4', 1],
      ['import/sub/two.mp4', 2],
    ]);
    expect((await storage.list('import/', { limit: 1 })).length).toBe(1);
  });
});

describe('LocalStorage direct uploads', () => {
  let root: string;
  let storage: LocalStorage;

  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgate-local-list-'));
    storage = new LocalStorage(root);
  });

  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it('has no presigned URLs', async () => {
    expect(await storage.presignWrite('videos/a.mp4', { expiresInSeconds: 60, contentType: 'video/mp4' })).toBeNull();
    expect(await storage.presignUploadPart('videos/a.mp4', 'id', 1, { expiresInSeconds: 60 })).toBeNull();
  });

  it('multipart calls are unsupported', async () => {
    await expect(storage.createMultipartUpload('videos/a.mp4', { contentType: 'video/mp4' })).rejects.toBeInstanceOf(DirectUploadUnsupportedError);
    await expect(storage.completeMultipartUpload('videos/a.mp4', 'id', [])).rejects.toBeInstanceOf(DirectUploadUnsupportedError);
    await expect(storage.abortMultipartUpload('videos/a.mp4', 'id')).rejects.toBeInstanceOf(DirectUploadUnsupportedError);
    await expect(storage.listParts('videos/a.mp4', 'id')).rejects.toBeInstanceOf(DirectUploadUnsupportedError);
  });

  it('list returns keys under the prefix', async () => {
    await storage.write('import/one.mp4', Readable.from([Buffer.from('1')]), { contentType: 'video/mp4' });
    await storage.write('import/sub dir/two + more.mp4', Readable.from([Buffer.from('22')]), { contentType: 'video/mp4' });
    await storage.write('importer/not-this.mp4', Readable.from([Buffer.from('x')]), { contentType: 'video/mp4' });
    fs.writeFileSync(path.join(root, 'import', '.reelgate-upload-half.tmp'), 'partial');

    const listed = await storage.list('import/', { limit: 10 });

    expect(listed.map((object) => [object.key, object.size])).toEqual([
      ['import/one.mp4', 1],
      ['import/sub dir/two + more.mp4', 2],
    ]);
  });

  it('list of a missing folder is empty', async () => {
    expect(await storage.list('nothing-here/', { limit: 10 })).toEqual([]);
  });

  it('list refuses a traversal prefix', async () => {
    await expect(storage.list('../outside/', { limit: 10 })).rejects.toThrow(/Invalid storage key/);
  });
});
